//! Pictures sent in a chat (上传图片): the type is read from the bytes (never the file name or
//! the declared content type), the size and pixel count are bounded, and the picture is decoded
//! and re-encoded, which drops every piece of metadata (EXIF with GPS, comments, ICC…). The file
//! is written under a name the server makes up; the `upload` row ties it to one conversation of
//! one supplier, and only that conversation's participants (and the supplier's admin) may read it.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use crate::DomainError;
use crate::db::{begin_write, rows_by_ids};
use crate::entity::{message, upload};
use crate::scoped::one_or_not_found;

/// Largest picture accepted, in bytes (5 MiB).
pub const MAX_PICTURE_BYTES: usize = 5 * 1024 * 1024;
/// Most pixels a picture may have (width × height): 25 megapixels.
pub const MAX_PICTURE_PIXELS: u64 = 25_000_000;
/// Longest side accepted, in pixels.
pub const MAX_PICTURE_SIDE: u32 = 12_000;
/// JPEG quality of re-encoded photos.
const JPEG_QUALITY: u8 = 85;

const TYPE_ERROR: &str = "只能发送 JPEG、PNG、GIF 或 WebP 格式的图片";

/// A picture checked and re-encoded, ready to be written.
#[derive(Clone, Debug)]
pub struct CleanPicture {
    pub bytes: Vec<u8>,
    /// `image/jpeg` or `image/png`.
    pub content_type: &'static str,
    /// `jpg` or `png`.
    pub extension: &'static str,
    pub width: u32,
    pub height: u32,
}

/// The format of the bytes, if it is one we take.
pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    match image::guess_format(bytes).ok()? {
        f @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::Gif | ImageFormat::WebP) => {
            Some(f)
        }
        _ => None,
    }
}

/// Checks and re-encodes a picture. CPU-heavy: call it from a blocking thread.
///
/// JPEG stays JPEG (quality 85, EXIF orientation applied to the pixels); PNG, GIF and WebP become
/// PNG (lossless; an animated GIF keeps its first frame).
pub fn clean_picture(bytes: &[u8]) -> Result<CleanPicture, DomainError> {
    if bytes.is_empty() {
        return Err(DomainError::validation("picture", "请选择要发送的图片"));
    }
    if bytes.len() > MAX_PICTURE_BYTES {
        return Err(DomainError::validation(
            "picture",
            format!("图片不能超过 {} MB", MAX_PICTURE_BYTES / 1024 / 1024),
        ));
    }
    let format = sniff(bytes).ok_or_else(|| DomainError::validation("picture", TYPE_ERROR))?;
    let unreadable = |_| DomainError::validation("picture", "图片已损坏或无法识别");

    // The header alone gives the size: refuse a pixel bomb before decoding anything.
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(unreadable)?;
    check_dimensions(width, height)?;

    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_PICTURE_SIDE);
    limits.max_image_height = Some(MAX_PICTURE_SIDE);
    // RGBA at the pixel cap, with room for one conversion.
    limits.max_alloc = Some(MAX_PICTURE_PIXELS * 4 * 2);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    let orientation = decoder.orientation().map_err(unreadable)?;
    let mut picture = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    picture.apply_orientation(orientation);

    let mut out = Cursor::new(Vec::new());
    let (content_type, extension) = if format == ImageFormat::Jpeg {
        let rgb = DynamicImage::ImageRgb8(picture.to_rgb8());
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY);
        rgb.write_with_encoder(encoder)
            .map_err(|e| DomainError::Internal(format!("jpeg encode: {e}")))?;
        ("image/jpeg", "jpg")
    } else {
        picture
            .write_to(&mut out, ImageFormat::Png)
            .map_err(|e| DomainError::Internal(format!("png encode: {e}")))?;
        ("image/png", "png")
    };
    Ok(CleanPicture {
        bytes: out.into_inner(),
        content_type,
        extension,
        width: picture.width(),
        height: picture.height(),
    })
}

fn check_dimensions(width: u32, height: u32) -> Result<(), DomainError> {
    if width == 0 || height == 0 {
        return Err(DomainError::validation("picture", "图片已损坏或无法识别"));
    }
    if width > MAX_PICTURE_SIDE
        || height > MAX_PICTURE_SIDE
        || u64::from(width) * u64::from(height) > MAX_PICTURE_PIXELS
    {
        return Err(DomainError::validation(
            "picture",
            format!(
                "图片尺寸过大（最多 {} 万像素，单边不超过 {MAX_PICTURE_SIDE} 像素）",
                MAX_PICTURE_PIXELS / 10_000
            ),
        ));
    }
    Ok(())
}

/// A stored name: 32 random hex digits and the extension. Never derived from user input.
fn stored_name(extension: &str) -> String {
    let mut raw = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut raw);
    format!("{}.{extension}", hex::encode(raw))
}

/// Is `name` something [`stored_name`] could have made? (Checked before touching the disk.)
pub fn is_stored_name(name: &str) -> bool {
    let Some((stem, ext)) = name.split_once('.') else {
        return false;
    };
    stem.len() == 32
        && stem
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && matches!(ext, "jpg" | "png")
}

/// Writes a clean picture under `dir` (created if missing) and records it for the
/// conversation. The file is written to a temporary name and renamed, so a reader never sees
/// half a file; if the row cannot be stored the file is removed.
pub async fn save_picture(
    db: &DatabaseConnection,
    dir: &Path,
    supplier_id: i64,
    conversation_id: i64,
    picture: &CleanPicture,
    now: i64,
) -> Result<upload::Model, DomainError> {
    let name = stored_name(picture.extension);
    let path = dir.join(&name);
    write_atomically(dir, &path, &picture.bytes).await?;
    let row = upload::ActiveModel {
        supplier_id: Set(supplier_id),
        conversation_id: Set(Some(conversation_id)),
        stored_name: Set(name),
        content_type: Set(picture.content_type.to_owned()),
        byte_size: Set(picture.bytes.len() as i64),
        width: Set(picture.width as i32),
        height: Set(picture.height as i32),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await;
    match row {
        Ok(row) => Ok(row),
        Err(err) => {
            let _ = tokio::fs::remove_file(&path).await;
            Err(err.into())
        }
    }
}

async fn write_atomically(dir: &Path, path: &PathBuf, bytes: &[u8]) -> Result<(), DomainError> {
    let io =
        |e: std::io::Error| DomainError::Internal(format!("upload dir {}: {e}", dir.display()));
    tokio::fs::create_dir_all(dir).await.map_err(io)?;
    let tmp = path.with_extension("part");
    tokio::fs::write(&tmp, bytes).await.map_err(io)?;
    tokio::fs::rename(&tmp, path).await.map_err(io)
}

/// The upload with this stored name, whatever its supplier (the caller then checks who may
/// see it against the row's supplier and conversation).
pub async fn upload_by_name(
    db: &DatabaseConnection,
    stored_name: &str,
) -> Result<upload::Model, DomainError> {
    if !is_stored_name(stored_name) {
        return Err(DomainError::NotFound);
    }
    let by_name = upload::Entity::find().filter(upload::Column::StoredName.eq(stored_name));
    one_or_not_found(db, by_name).await
}

/// Uploads by id (for rendering messages).
pub async fn uploads_by_ids(
    db: &DatabaseConnection,
    ids: &[i64],
) -> Result<Vec<upload::Model>, DomainError> {
    rows_by_ids::<upload::Entity>(db, upload::Column::Id, ids).await
}

/// Uploads looked at per pass of [`delete_unreferenced_uploads`].
const SWEEP_BATCH: u64 = 200;

/// Deletes every upload created before `created_before` that no message refers to: the row,
/// then its file. A picture sent at the same moment is either seen here (and kept) or finds
/// its upload gone (and is refused); the file goes only after its row. Returns how many.
pub async fn delete_unreferenced_uploads(
    db: &DatabaseConnection,
    dir: &Path,
    created_before: i64,
) -> Result<usize, DomainError> {
    let mut deleted = 0;
    let mut after_id = 0;
    loop {
        let candidates = upload::Entity::find()
            .filter(upload::Column::CreatedAt.lt(created_before))
            .filter(upload::Column::Id.gt(after_id))
            .order_by_asc(upload::Column::Id)
            .limit(SWEEP_BATCH)
            .all(db)
            .await?;
        let Some(last) = candidates.last() else { break };
        after_id = last.id;
        let more = candidates.len() as u64 == SWEEP_BATCH;
        for candidate in candidates {
            if delete_if_unreferenced(db, &candidate).await? {
                // The row is gone; a missing file is fine (already gone).
                let path = dir.join(&candidate.stored_name);
                if let Err(err) = tokio::fs::remove_file(&path).await
                    && err.kind() != std::io::ErrorKind::NotFound
                {
                    tracing::warn!(error = %err, path = %path.display(), "unsent picture file not deleted");
                }
                deleted += 1;
            }
        }
        if !more {
            break;
        }
    }
    Ok(deleted)
}

/// Deletes the upload's row if no message refers to it, in one write transaction.
async fn delete_if_unreferenced(
    db: &DatabaseConnection,
    candidate: &upload::Model,
) -> Result<bool, DomainError> {
    let txn = begin_write(db).await?;
    // Lock the row (PostgreSQL; SQLite's write lock is held already): a message stored
    // concurrently either committed before (and is seen below) or waits and then fails.
    upload::Entity::update_many()
        .col_expr(
            upload::Column::CreatedAt,
            Expr::col(upload::Column::CreatedAt),
        )
        .filter(upload::Column::Id.eq(candidate.id))
        .exec(&txn)
        .await?;
    // A message can only carry a picture of its own conversation (the index on
    // conversation_id finds it).
    let mut references = message::Entity::find().filter(message::Column::UploadId.eq(candidate.id));
    if let Some(conversation_id) = candidate.conversation_id {
        references = references.filter(message::Column::ConversationId.eq(conversation_id));
    }
    if references.count(&txn).await? > 0 {
        return Ok(false);
    }
    let gone = upload::Entity::delete_many()
        .filter(upload::Column::Id.eq(candidate.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(gone.rows_affected == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_are_recognised_and_nothing_else() {
        let name = stored_name("jpg");
        assert!(is_stored_name(&name), "{name}");
        for bad in [
            "../etc/passwd",
            "x.jpg",
            "",
            &format!("{}.svg", &name[..32]),
            &name.to_uppercase(),
        ] {
            assert!(!is_stored_name(bad), "{bad}");
        }
    }

    #[test]
    fn dimensions_over_the_caps_are_refused() {
        assert!(check_dimensions(5000, 5000).is_ok());
        assert!(check_dimensions(5001, 5000).is_err());
        assert!(check_dimensions(MAX_PICTURE_SIDE + 1, 10).is_err());
        assert!(check_dimensions(0, 10).is_err());
    }
}
