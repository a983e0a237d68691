//! The error that crosses the wire from server functions: always carries a message fit for a
//! person, in Chinese. Internal details are logged on the server and never sent.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

/// What went wrong, as a person is told it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Bad input or a refused action; `field` names the form field when there is one.
    #[error("{message}")]
    Invalid {
        field: Option<String>,
        message: String,
    },
    /// No valid login: the page goes back to the login page.
    #[error("登录已失效，请重新登录")]
    Unauthenticated,
    #[error("没有权限执行此操作")]
    Forbidden,
    #[error("服务器内部错误，请稍后再试")]
    Internal,
    /// The request did not reach the server or its answer could not be read.
    #[error("网络连接异常，请稍后再试")]
    Transport(String),
}

impl AppError {
    /// Bad input or a refused action, pointing at `field` when there is one.
    pub fn invalid(field: Option<&str>, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<domain::error::DomainError> for AppError {
    fn from(err: domain::error::DomainError) -> Self {
        use domain::error::DomainError as D;
        match err {
            D::Validation { field, .. } => AppError::invalid(Some(field), err.user_message()),
            D::FieldInvalid { field, reason } => AppError::Invalid {
                field: Some(field),
                message: reason,
            },
            D::Forbidden => AppError::Forbidden,
            D::Db(_) | D::Internal(_) => {
                tracing::error!(error = %err, "request failed");
                AppError::Internal
            }
            other => AppError::invalid(None, other.user_message()),
        }
    }
}
