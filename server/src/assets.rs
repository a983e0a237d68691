//! The site's files: the wasm, its JS glue and the CSS under `/pkg`, and what `public/` copies
//! to the site root (widget.js, the favicon, the demo pictures).
//!
//! A file is served from its precompressed copy (`.br`, else `.gz`, written by
//! `cargo leptos build --release -P`) when the browser accepts that encoding, with
//! `Content-Encoding` and `Vary: Accept-Encoding`. A file whose name carries its content's
//! hash (cargo-leptos `hash-files`, e.g. `/pkg/kefu.<22 characters>.wasm`) never changes under
//! that name, so the browser keeps it a year without asking; every other file is revalidated
//! (`no-cache`: an unchanged file costs a 304 without a body), so a new widget.js or a
//! development rebuild is seen at once.
//!
//! Which names the pages use is decided here, from the files, not from how the server was
//! started: cargo-leptos hands `LEPTOS_HASH_FILES` only to the servers it starts itself, and
//! `cargo leptos watch` rebuilds without hashes after an edit.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRef, State};
use axum::http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, Uri, header};
use leptos::prelude::*;
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// `Cache-Control` of a file whose name carries its content's hash.
pub const CACHE_HASHED: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of every other file: kept, but revalidated before each use.
pub const CACHE_REVALIDATE: &str = "no-cache";

/// Length of cargo-leptos' file hashes: an MD5 in unpadded base64url.
const HASH_LEN: usize = 22;

/// The content hashes of the app's three files, as cargo-leptos writes them to its hash file
/// (`js: …`, `wasm: …`, `css: …`, one a line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildHashes {
    pub js: String,
    pub wasm: String,
    pub css: String,
}

impl BuildHashes {
    /// The hashes in a hash file's text; `None` unless all three are there and well-formed.
    pub fn parse(text: &str) -> Option<Self> {
        let hash_of = |name: &str| {
            text.lines()
                .filter_map(|line| line.split_once(':'))
                .find(|(file, _)| file.trim() == name)
                .map(|(_, hash)| hash.trim().to_owned())
                .filter(|hash| is_hash(hash))
        };
        Some(Self {
            js: hash_of("js")?,
            wasm: hash_of("wasm")?,
            css: hash_of("css")?,
        })
    }
}

/// The app's three files by extension.
const APP_FILES: [&str; 3] = ["js", "wasm", "css"];

fn is_hash(s: &str) -> bool {
    s.len() == HASH_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The site root as built, and how its files are named and served.
#[derive(Clone, Debug)]
pub struct SiteAssets {
    files: ServeDir,
    root: PathBuf,
    pkg_dir: String,
    output_name: String,
    hash_file: PathBuf,
    hashes: Option<BuildHashes>,
    /// The hashed file behind each plain name (`css` → `kefu.<hash>.css`), found in the pkg
    /// directory.
    hashed_files: Vec<(&'static str, String)>,
}

impl SiteAssets {
    /// Where Leptos looks for cargo-leptos' hash file: beside the running executable
    /// (`target/release/hash.txt` for `target/release/server`).
    pub fn hash_file_beside_exe(options: &LeptosOptions) -> PathBuf {
        std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(Path::to_path_buf))
            .unwrap_or_default()
            .join(&*options.hash_file)
    }

    /// Reads the build in `options.site_root`. Hashed names are used only when `hash_file`
    /// names a JS and a wasm file that exist and no unhashed wasm was written since (a
    /// `cargo leptos watch` rebuild after an edit, or a build without `hash-files`): a stale
    /// hash file never makes the pages name files that are gone or old.
    pub fn detect(options: &LeptosOptions, hash_file: &Path) -> Self {
        let root = PathBuf::from(&*options.site_root);
        let pkg_dir = options.site_pkg_dir.trim_matches('/').to_owned();
        let output_name = options.output_name.to_string();
        let pkg = root.join(&pkg_dir);
        let hashes = std::fs::read_to_string(hash_file)
            .ok()
            .and_then(|text| BuildHashes::parse(&text))
            .filter(|h| {
                pkg.join(format!("{output_name}.{}.js", h.js)).is_file()
                    && pkg.join(format!("{output_name}.{}.wasm", h.wasm)).is_file()
                    && !pkg.join(format!("{output_name}.wasm")).exists()
            });
        let hashed_files = newest_hashed_files(&pkg, &output_name);
        Self {
            files: ServeDir::new(&root).precompressed_br().precompressed_gzip(),
            root,
            pkg_dir,
            output_name,
            hash_file: hash_file.to_path_buf(),
            hashes,
            hashed_files,
        }
    }

    /// The hashes the pages name files by, if the build has them.
    pub fn hashes(&self) -> Option<&BuildHashes> {
        self.hashes.as_ref()
    }

    /// The site root the files are served from.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Makes Leptos' hydration scripts name the files this build has: hashed names exactly when
    /// [`SiteAssets::hashes`] found them, read from the same hash file (by its absolute path,
    /// whatever directory the server was started from).
    pub fn apply_to(&self, options: &mut LeptosOptions) {
        options.hash_files = self.hashes.is_some();
        if self.hashes.is_some() {
            options.hash_file = self.hash_file.to_string_lossy().into();
        }
    }

    /// The file at `uri`, with its encoding and cache headers; `None` when there is no such
    /// file (or the method is not GET/HEAD), so the caller answers with the 404 page.
    ///
    /// `/pkg/<output>.css|js|wasm` without a hash, when only a hashed file exists, is the
    /// newest such file, revalidated: the app links its stylesheet by the plain name, a server
    /// started without the hash file beside it names the plain files, and `cargo leptos watch`
    /// may rewrite the wasm but not an unchanged JS file after an edit.
    pub async fn serve(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
    ) -> Option<Response<Body>> {
        let path = uri.path();
        if let Some(found) = self.file(method, uri, headers).await {
            let cache = match self.is_hashed_name(path) {
                true => CACHE_HASHED,
                false => CACHE_REVALIDATE,
            };
            return Some(with_cache_headers(found, cache));
        }
        let hashed: Uri = self.hashed_name_of(path)?.parse().ok()?;
        let found = self.file(method, &hashed, headers).await?;
        Some(with_cache_headers(found, CACHE_REVALIDATE))
    }

    async fn file(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
    ) -> Option<Response<Body>> {
        let mut request = Request::new(Body::empty());
        *request.method_mut() = method.clone();
        *request.uri_mut() = uri.clone();
        *request.headers_mut() = headers.clone();
        let response = match self.files.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let found = response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED;
        found.then(|| response.map(Body::new))
    }

    /// `/pkg/<name>.<hash>.<ext>`: a name cargo-leptos gave a file after its content.
    fn is_hashed_name(&self, path: &str) -> bool {
        let Some(name) = self.in_pkg(path) else {
            return false;
        };
        let parts: Vec<&str> = name.split('.').collect();
        parts.len() >= 3 && is_hash(parts[parts.len() - 2])
    }

    /// `/pkg/kefu.css` → `/pkg/kefu.<css hash>.css`, when there is such a file.
    fn hashed_name_of(&self, path: &str) -> Option<String> {
        let name = self.in_pkg(path)?;
        let ext = name
            .strip_prefix(self.output_name.as_str())?
            .strip_prefix('.')?;
        let (_, hash) = self.hashed_files.iter().find(|(e, _)| *e == ext)?;
        Some(format!(
            "/{}/{}.{hash}.{ext}",
            self.pkg_dir, self.output_name
        ))
    }

    /// The file name of a path directly under the pkg directory.
    fn in_pkg<'a>(&self, path: &'a str) -> Option<&'a str> {
        let name = path
            .strip_prefix('/')?
            .strip_prefix(self.pkg_dir.as_str())?
            .strip_prefix('/')?;
        (!name.is_empty() && !name.contains('/')).then_some(name)
    }
}

/// For each of the app's files, the hash in the name of the newest `<output>.<hash>.<ext>` in
/// `pkg` (cargo-leptos empties the site root before each build, so normally the only one).
fn newest_hashed_files(pkg: &Path, output_name: &str) -> Vec<(&'static str, String)> {
    let mut newest: Vec<(&'static str, String, std::time::SystemTime)> = Vec::new();
    let Ok(entries) = std::fs::read_dir(pkg) else {
        return Vec::new();
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some((hash, ext)) = name.to_str().and_then(|n| {
            n.strip_prefix(output_name)?
                .strip_prefix('.')?
                .split_once('.')
        }) else {
            continue;
        };
        let Some(ext) = APP_FILES.into_iter().find(|e| *e == ext) else {
            continue;
        };
        let modified = entry
            .metadata()
            .and_then(|m| m.modified())
            .unwrap_or(std::time::UNIX_EPOCH);
        if !is_hash(hash) || newest.iter().any(|(e, _, t)| *e == ext && *t >= modified) {
            continue;
        }
        newest.retain(|(e, _, _)| *e != ext);
        newest.push((ext, hash.to_owned(), modified));
    }
    newest
        .into_iter()
        .map(|(ext, hash, _)| (ext, hash))
        .collect()
}

/// Sets `Cache-Control` (unless the response has one) and `Vary: Accept-Encoding` (the body
/// depends on it whenever a precompressed copy exists).
fn with_cache_headers(mut response: Response<Body>, cache: &'static str) -> Response<Body> {
    let headers = response.headers_mut();
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// The router's fallback: a site file through [`SiteAssets::serve`], else the app's 404 page
/// (Leptos' own handler, which renders `shell` with status 404).
#[allow(clippy::type_complexity)]
pub fn file_and_error_handler<S, IV>(
    assets: Arc<SiteAssets>,
    shell: impl Fn(LeptosOptions) -> IV + 'static + Clone + Send,
) -> impl Fn(
    Uri,
    State<S>,
    Request<Body>,
) -> Pin<Box<dyn Future<Output = Response<Body>> + Send + 'static>>
+ Clone
+ Send
+ 'static
where
    IV: IntoView + 'static,
    S: Send + Sync + Clone + 'static,
    LeptosOptions: FromRef<S>,
{
    let not_found = leptos_axum::file_and_error_handler::<S, IV>(shell);
    move |uri: Uri, state: State<S>, request: Request<Body>| {
        let assets = assets.clone();
        let not_found = not_found.clone();
        Box::pin(async move {
            match assets
                .serve(request.method(), &uri, request.headers())
                .await
            {
                Some(file) => file,
                None => not_found(uri, state, request).await,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_file_needs_all_three_well_formed_hashes() {
        let text = "js: AAAAAAAAAAAAAAAAAAAAAA\nwasm: BBBBBBBBBBBBBBBBBBBBB_\ncss: CCCCCCCCCCCCCCCCCCCCC-\n";
        let hashes = BuildHashes::parse(text).expect("three hashes");
        assert_eq!(hashes.wasm, "BBBBBBBBBBBBBBBBBBBBB_");
        assert_eq!(
            BuildHashes::parse("js: AAAAAAAAAAAAAAAAAAAAAA\nwasm: BBBBBBBBBBBBBBBBBBBBBB\n"),
            None
        );
        assert_eq!(
            BuildHashes::parse(&text.replace("CCCCCCCCCCCCCCCCCCCCC-", "short")),
            None
        );
        assert_eq!(
            BuildHashes::parse(&text.replace("CCCCCCCCCCCCCCCCCCCCC-", "../../../etc/passwd")),
            None
        );
    }

    fn assets(hashed_files: Vec<(&'static str, String)>) -> SiteAssets {
        SiteAssets {
            files: ServeDir::new("unused"),
            root: PathBuf::from("unused"),
            pkg_dir: "pkg".into(),
            output_name: "kefu".into(),
            hash_file: PathBuf::from("hash.txt"),
            hashes: None,
            hashed_files,
        }
    }

    #[test]
    fn only_pkg_files_named_after_their_hash_are_hashed_names() {
        let a = assets(Vec::new());
        assert!(a.is_hashed_name("/pkg/kefu.AAAAAAAAAAAAAAAAAAAAAA.wasm"));
        assert!(a.is_hashed_name("/pkg/__wasm_split.AAAAAAAAAAAAAAAAAAAAAA.js"));
        assert!(!a.is_hashed_name("/pkg/kefu.wasm"));
        assert!(
            !a.is_hashed_name("/pkg/kefu.AAAAAAAAAAAAAAAAAAAAA.wasm"),
            "21 characters"
        );
        assert!(
            !a.is_hashed_name("/widget.AAAAAAAAAAAAAAAAAAAAAA.js"),
            "outside /pkg"
        );
        assert!(
            !a.is_hashed_name("/pkg/sub/kefu.AAAAAAAAAAAAAAAAAAAAAA.js"),
            "below /pkg"
        );
        assert!(!a.is_hashed_name("/pkgx/kefu.AAAAAAAAAAAAAAAAAAAAAA.js"));
    }

    #[test]
    fn a_plain_name_maps_to_the_hashed_file_only_for_the_apps_three_files() {
        let a = assets(vec![
            ("js", "AAAAAAAAAAAAAAAAAAAAAA".into()),
            ("wasm", "BBBBBBBBBBBBBBBBBBBBBB".into()),
            ("css", "CCCCCCCCCCCCCCCCCCCCCC".into()),
        ]);
        assert_eq!(
            a.hashed_name_of("/pkg/kefu.css").as_deref(),
            Some("/pkg/kefu.CCCCCCCCCCCCCCCCCCCCCC.css")
        );
        assert_eq!(
            a.hashed_name_of("/pkg/kefu.wasm").as_deref(),
            Some("/pkg/kefu.BBBBBBBBBBBBBBBBBBBBBB.wasm")
        );
        assert_eq!(a.hashed_name_of("/pkg/kefu.txt"), None);
        assert_eq!(a.hashed_name_of("/pkg/other.css"), None);
        assert_eq!(a.hashed_name_of("/kefu.css"), None);
        assert_eq!(assets(Vec::new()).hashed_name_of("/pkg/kefu.css"), None);
    }
}
