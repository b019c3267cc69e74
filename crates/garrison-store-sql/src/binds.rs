//! Values bound to a query built at run time, in placeholder order.

use garrison_core::TenantAccess;

/// Binds collected for a dynamic query.
#[derive(Default, Clone)]
pub(crate) struct Binds(Vec<Bind>);

#[derive(Clone)]
enum Bind {
    Text(String),
    Int(i64),
}

impl Binds {
    /// Adds a value and returns its placeholder.
    pub(crate) fn text(&mut self, v: impl Into<String>) -> String {
        self.0.push(Bind::Text(v.into()));
        format!("${}", self.0.len())
    }

    pub(crate) fn int(&mut self, v: i64) -> String {
        self.0.push(Bind::Int(v));
        format!("${}", self.0.len())
    }

    pub(crate) fn apply<'q>(
        &self,
        mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
        for b in &self.0 {
            q = match b {
                Bind::Text(s) => q.bind(s.clone()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        q
    }

    /// ` AND column IN (...)` for an access set; `None` when nothing can match.
    pub(crate) fn access(
        &mut self,
        access: &TenantAccess,
        column: &str,
        only: Option<garrison_core::TenantId>,
    ) -> Option<String> {
        if let Some(t) = only {
            if !access.allows(t) {
                return None;
            }
            return Some(format!(" AND {column} = {}", self.text(t.to_string())));
        }
        match access.tenants() {
            None => Some(String::new()),
            Some(set) if set.is_empty() => None,
            Some(set) => {
                let ph: Vec<String> = set.iter().map(|t| self.text(t.to_string())).collect();
                Some(format!(" AND {column} IN ({})", ph.join(", ")))
            }
        }
    }
}
