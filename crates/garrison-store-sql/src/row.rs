//! Reading typed values out of `Any` rows, with errors that name the column.

use std::str::FromStr;

use garrison_core::Timestamp;
use garrison_store::{StoreError, StoreResult};
use sqlx::any::AnyRow;
use sqlx::{Decode, Row, Type};

pub(crate) fn get<'r, T>(row: &'r AnyRow, col: &str) -> StoreResult<T>
where
    T: Decode<'r, sqlx::Any> + Type<sqlx::Any>,
{
    row.try_get(col)
        .map_err(|e| StoreError::Corrupt(format!("column `{col}`: {e}")))
}

pub(crate) fn text(row: &AnyRow, col: &str) -> StoreResult<String> {
    get(row, col)
}

pub(crate) fn opt_text(row: &AnyRow, col: &str) -> StoreResult<Option<String>> {
    get(row, col)
}

pub(crate) fn parse<T: FromStr>(row: &AnyRow, col: &str) -> StoreResult<T>
where
    T::Err: std::fmt::Display,
{
    let s = text(row, col)?;
    s.parse()
        .map_err(|e| StoreError::Corrupt(format!("column `{col}`: `{s}`: {e}")))
}

pub(crate) fn opt_parse<T: FromStr>(row: &AnyRow, col: &str) -> StoreResult<Option<T>>
where
    T::Err: std::fmt::Display,
{
    opt_text(row, col)?
        .map(|s| {
            s.parse()
                .map_err(|e| StoreError::Corrupt(format!("column `{col}`: `{s}`: {e}")))
        })
        .transpose()
}

pub(crate) fn int(row: &AnyRow, col: &str) -> StoreResult<i64> {
    get(row, col)
}

pub(crate) fn flag(row: &AnyRow, col: &str) -> StoreResult<bool> {
    Ok(int(row, col)? != 0)
}

pub(crate) fn ts(row: &AnyRow, col: &str) -> StoreResult<Timestamp> {
    int(row, col).map(Timestamp::from_millis)
}

pub(crate) fn opt_ts(row: &AnyRow, col: &str) -> StoreResult<Option<Timestamp>> {
    Ok(get::<Option<i64>>(row, col)?.map(Timestamp::from_millis))
}

pub(crate) fn opt_int(row: &AnyRow, col: &str) -> StoreResult<Option<i64>> {
    get(row, col)
}

/// A column holding JSON, read into `T`.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(row: &AnyRow, col: &str) -> StoreResult<T> {
    let s = text(row, col)?;
    serde_json::from_str(&s)
        .map_err(|e| garrison_store::StoreError::Corrupt(format!("column `{col}`: {e}")))
}
