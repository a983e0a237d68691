//! The site's files as a browser gets them: the precompressed copy with its `Content-Encoding`
//! when the browser accepts it, a year of cache for hashed names and revalidation for the rest,
//! and the pages naming hashed files only when the build in the site root has them. Real files
//! in a temporary site root, through the router's fallback.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use server::assets::{self, CACHE_HASHED, CACHE_REVALIDATE, SiteAssets};
use tower::ServiceExt;

const JS: &str = "AAAAAAAAAAAAAAAAAAAAAA";
const WASM: &str = "BBBBBBBBBBBBBBBBBBBBB_";
const CSS: &str = "CCCCCCCCCCCCCCCCCCCCC-";

/// A release build's site root as cargo-leptos leaves it (`hash-files = true`, `-P`), and its
/// hash file in another directory, as beside the server binary.
struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    fn release_build() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let site = Self { dir };
        site.write(&format!("site/pkg/kefu.{JS}.js"), b"// the app's glue");
        site.write(&format!("site/pkg/kefu.{JS}.js.br"), b"glue as brotli");
        site.write(
            &format!("site/pkg/kefu.{WASM}.wasm"),
            b"\0asm the app itself",
        );
        site.write(&format!("site/pkg/kefu.{WASM}.wasm.br"), b"wasm as brotli");
        site.write(&format!("site/pkg/kefu.{WASM}.wasm.gz"), b"wasm as gzip");
        site.write(&format!("site/pkg/kefu.{CSS}.css"), b"body { margin: 0 }");
        site.write(
            "site/widget.js",
            b"(function () { /* the mall's loader */ })();",
        );
        site.write("site/widget.js.br", b"loader as brotli");
        site.write("site/favicon.svg", b"<svg/>");
        site.write(
            "bin/hash.txt",
            format!("js: {JS}\nwasm: {WASM}\ncss: {CSS}\n").as_bytes(),
        );
        site
    }

    fn write(&self, path: &str, bytes: &[u8]) {
        let path = self.dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        std::fs::write(path, bytes).expect("write");
    }

    fn path(&self, path: &str) -> PathBuf {
        self.dir.path().join(path)
    }

    fn options(&self) -> LeptosOptions {
        LeptosOptions::builder()
            .output_name("kefu")
            .site_root(self.path("site").to_string_lossy().to_string())
            .site_pkg_dir("pkg")
            .build()
    }

    fn assets(&self) -> SiteAssets {
        SiteAssets::detect(&self.options(), &self.path("bin/hash.txt"))
    }

    /// The fallback as the server mounts it, with a stand-in 404 page. Leptos renders that page
    /// on the executor the server starts when it lists the app's routes.
    fn router(&self) -> Router {
        let _ = leptos_axum::generate_route_list(app::App);
        Router::new()
            .fallback(assets::file_and_error_handler::<LeptosOptions, _>(
                Arc::new(self.assets()),
                |_| "页面不存在",
            ))
            .with_state(self.options())
    }

    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> (Response<Body>, Vec<u8>) {
        let mut request = Request::get(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = self
            .router()
            .oneshot(request.body(Body::empty()).expect("request"))
            .await
            .expect("infallible");
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("body").to_bytes().to_vec();
        (Response::from_parts(parts, Body::empty()), bytes)
    }
}

fn header_of(response: &Response<Body>, name: header::HeaderName) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().expect("ascii").to_owned())
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("read")
}

#[tokio::test]
async fn a_hashed_wasm_goes_as_brotli_to_a_browser_that_accepts_it_and_is_kept_a_year() {
    let site = Site::release_build();
    let path = format!("/pkg/kefu.{WASM}.wasm");
    let (response, body) = site
        .get(&path, &[("accept-encoding", "gzip, deflate, br, zstd")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header_of(&response, header::CONTENT_ENCODING).as_deref(),
        Some("br")
    );
    assert_eq!(body, read(&site.path(&format!("site{path}.br"))));
    assert_eq!(
        header_of(&response, header::CONTENT_TYPE).as_deref(),
        Some("application/wasm")
    );
    assert_eq!(
        header_of(&response, header::CACHE_CONTROL).as_deref(),
        Some(CACHE_HASHED)
    );
    assert_eq!(
        header_of(&response, header::VARY).as_deref(),
        Some("accept-encoding")
    );

    // Without br: the gzip copy; without either: the file itself, same cache rule.
    let (response, body) = site.get(&path, &[("accept-encoding", "gzip")]).await;
    assert_eq!(
        header_of(&response, header::CONTENT_ENCODING).as_deref(),
        Some("gzip")
    );
    assert_eq!(body, read(&site.path(&format!("site{path}.gz"))));
    let (response, body) = site.get(&path, &[]).await;
    assert_eq!(header_of(&response, header::CONTENT_ENCODING), None);
    assert_eq!(body, read(&site.path(&format!("site{path}"))));
    assert_eq!(
        header_of(&response, header::CACHE_CONTROL).as_deref(),
        Some(CACHE_HASHED)
    );
}

#[tokio::test]
async fn unhashed_files_are_revalidated_so_a_new_widget_js_is_seen_at_once() {
    let site = Site::release_build();
    let (response, body) = site.get("/widget.js", &[("accept-encoding", "br")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header_of(&response, header::CONTENT_ENCODING).as_deref(),
        Some("br")
    );
    assert_eq!(body, read(&site.path("site/widget.js.br")));
    assert_eq!(
        header_of(&response, header::CACHE_CONTROL).as_deref(),
        Some(CACHE_REVALIDATE)
    );

    let (response, _) = site.get("/favicon.svg", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header_of(&response, header::CACHE_CONTROL).as_deref(),
        Some(CACHE_REVALIDATE)
    );

    // Revalidation: an unchanged file is a 304 without a body, with the same rule.
    let modified = header_of(&response, header::LAST_MODIFIED).expect("Last-Modified");
    let (response, body) = site
        .get("/favicon.svg", &[("if-modified-since", &modified)])
        .await;
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(
        header_of(&response, header::CACHE_CONTROL).as_deref(),
        Some(CACHE_REVALIDATE)
    );
}

#[tokio::test]
async fn the_plain_stylesheet_name_is_the_hashed_file_revalidated() {
    let site = Site::release_build();
    let (response, body) = site.get("/pkg/kefu.css", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body, read(&site.path(&format!("site/pkg/kefu.{CSS}.css"))));
    assert_eq!(
        header_of(&response, header::CACHE_CONTROL).as_deref(),
        Some(CACHE_REVALIDATE)
    );
}

#[tokio::test]
async fn a_missing_file_is_the_404_page_without_a_years_cache() {
    let site = Site::release_build();
    for path in [
        "/pkg/kefu.DDDDDDDDDDDDDDDDDDDDDD.wasm",
        "/pkg/../bin/hash.txt",
        "/pkg/kefu.txt",
    ] {
        let (response, body) = site.get(path, &[]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(
            String::from_utf8_lossy(&body).contains("页面不存在"),
            "{path}"
        );
        assert_ne!(
            header_of(&response, header::CACHE_CONTROL).as_deref(),
            Some(CACHE_HASHED),
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_pages_name_hashed_files_only_when_the_build_has_them() {
    let site = Site::release_build();
    let assets = site.assets();
    assert_eq!(assets.hashes().map(|h| h.wasm.as_str()), Some(WASM));
    let mut options = site.options();
    assets.apply_to(&mut options);
    assert!(options.hash_files);
    assert_eq!(
        Path::new(&*options.hash_file),
        site.path("bin/hash.txt"),
        "read by its absolute path, whatever the working directory"
    );

    // `cargo leptos watch` after an edit: an unhashed wasm written over a hashed build.
    site.write("site/pkg/kefu.wasm", b"\0asm newer");
    let mut options = site.options();
    options.hash_files = true;
    site.assets().apply_to(&mut options);
    assert!(
        !options.hash_files,
        "a rebuild without hashes wins over the old hash file"
    );

    // A hash file left from an earlier build whose files are gone.
    let stale = Site::release_build();
    std::fs::remove_file(stale.path(&format!("site/pkg/kefu.{WASM}.wasm"))).expect("remove");
    assert_eq!(stale.assets().hashes(), None);
    // No hash file at all (a build without `hash-files`).
    let unhashed = Site::release_build();
    std::fs::remove_file(unhashed.path("bin/hash.txt")).expect("remove");
    assert_eq!(unhashed.assets().hashes(), None);
}

#[tokio::test]
async fn without_its_hash_file_the_server_still_serves_the_build_by_plain_names() {
    // The binary copied elsewhere without the hash.txt beside it.
    let site = Site::release_build();
    std::fs::remove_file(site.path("bin/hash.txt")).expect("remove");
    let mut options = site.options();
    site.assets().apply_to(&mut options);
    assert!(!options.hash_files, "the pages name kefu.js and kefu.wasm");

    let (response, body) = site
        .get("/pkg/kefu.wasm", &[("accept-encoding", "br")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header_of(&response, header::CONTENT_ENCODING).as_deref(),
        Some("br")
    );
    assert_eq!(
        body,
        read(&site.path(&format!("site/pkg/kefu.{WASM}.wasm.br")))
    );
    assert_eq!(
        header_of(&response, header::CACHE_CONTROL).as_deref(),
        Some(CACHE_REVALIDATE)
    );
    let (response, body) = site.get("/pkg/kefu.js", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body, read(&site.path(&format!("site/pkg/kefu.{JS}.js"))));
}
