//! 上传图片's choice of a file, between the picture button and the preview: checked, decoded
//! out of sight, then previewed until it is sent or dropped.

use leptos::prelude::*;

use super::upload::{NOT_A_PICTURE, check_picture, release_preview};

/// The chosen picture's state, shared by [`PictureButton`](super::picture_button::PictureButton)
/// and [`PicturePreview`](super::picture_preview::PicturePreview).
#[derive(Clone, Copy)]
pub struct PictureChoice {
    /// The hidden file input.
    pub input: NodeRef<leptos::html::Input>,
    /// The chosen picture's local address while the browser tries to decode it; only a picture
    /// it can show gets a preview (and 发送图片).
    pub checking: RwSignal<Option<String>>,
    /// The chosen picture's local preview, until it is sent or dropped.
    pub preview: RwSignal<Option<String>>,
    /// Why the chosen file cannot be sent.
    pub error: RwSignal<Option<String>>,
}

impl PictureChoice {
    /// Nothing chosen yet.
    pub fn new() -> Self {
        PictureChoice {
            input: NodeRef::new(),
            checking: RwSignal::new(None),
            preview: RwSignal::new(None),
            error: RwSignal::new(None),
        }
    }

    /// The file chosen in the input.
    pub fn file(&self) -> Option<web_sys::File> {
        self.input.get_untracked()?.files()?.get(0)
    }

    /// Frees the local addresses shown so far.
    fn release(&self) {
        for url in [self.checking.get_untracked(), self.preview.get_untracked()]
            .into_iter()
            .flatten()
        {
            release_preview(&url);
        }
    }

    /// Drops the choice: no preview, the input emptied.
    pub fn drop_picture(&self) {
        self.release();
        self.checking.set(None);
        self.preview.set(None);
        if let Some(input) = self.input.get_untracked() {
            input.set_value("");
        }
    }

    /// A file was chosen: refused at once if it cannot be a picture, else decoded out of sight.
    pub fn chosen(&self) {
        self.error.set(None);
        let Some(file) = self.file() else { return };
        match check_picture(file.size() as u64, &file.type_()) {
            Err(reason) => {
                self.error.set(Some(reason));
                self.drop_picture();
            }
            Ok(()) => self.decode(&file),
        }
    }

    /// Decodes the chosen `file` out of sight, in place of any earlier choice.
    fn decode(&self, file: &web_sys::File) {
        #[cfg(feature = "hydrate")]
        {
            self.release();
            self.preview.set(None);
            self.checking.set(super::upload::local_preview(file));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = file;
    }

    /// The decode check's verdict for `url` (a later choice may have replaced it meanwhile).
    pub fn decoded(&self, url: &str, ok: bool) {
        if self.checking.get_untracked().as_deref() != Some(url) {
            return;
        }
        if ok {
            self.checking.set(None);
            self.preview.set(Some(url.to_owned()));
        } else {
            self.drop_picture();
            self.error.set(Some(NOT_A_PICTURE.to_owned()));
        }
    }
}
