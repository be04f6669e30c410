//! Reading a `postgresql://` store location the way libpq users expect.
//!
//! tokio-postgres parses the URL but, unlike libpq, reads no environment and no password
//! file, and knows only `sslmode=disable|prefer|require`. Operators configure PostgreSQL
//! clients with `PGPASSWORD`, `~/.pgpass` (or `passfile=`/`PGPASSFILE`) and
//! `sslmode=verify-full` + `sslrootcert=`, so this module adds exactly that on top.
//!
//! A password is never taken from the location itself: the location sits in the config
//! file, in `--store` (visible to every user in `ps`) and in `CLOUDCENSUS_STORE`, and it is
//! printed in messages. A URL with a password is refused with a message saying where the
//! password goes instead.

use std::path::{Path, PathBuf};

use super::StoreError;

/// Whether a store location names a PostgreSQL server (a path means SQLite).
pub fn is_postgres(location: &str) -> bool {
    let l = location.trim_start();
    l.starts_with("postgresql://") || l.starts_with("postgres://")
}

/// How TLS is used, as in libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it (libpq's default). A certificate is always verified.
    Prefer,
    /// TLS or no connection; the certificate is verified against the trusted roots and the
    /// host name (rustls has no "encrypt but trust anyone" mode, so `require`, `verify-ca`
    /// and `verify-full` all verify fully).
    Require,
}

/// A parsed PostgreSQL store location.
#[derive(Debug, Clone)]
pub struct PgLocation {
    /// The URL as given (it never holds a password), for messages.
    pub display: String,
    /// Connection settings for tokio-postgres (password filled in from the environment).
    pub config: tokio_postgres::Config,
    /// TLS mode.
    pub tls: TlsMode,
    /// Extra trusted root certificates (`sslrootcert=`), PEM.
    pub root_cert: Option<PathBuf>,
    /// `host:port` for messages.
    pub host: String,
    /// The user name.
    pub user: String,
    /// The database name.
    pub dbname: String,
}

fn bad(location: &str, why: impl std::fmt::Display) -> StoreError {
    StoreError::BadLocation {
        location: location.to_string(),
        reason: why.to_string(),
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 3 <= b.len()
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
        {
            let hex = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            out.push(hex(b[i + 1]) * 16 + hex(b[i + 2]));
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Refuses a location with a password in it (user-info `user:secret@` or `password=`).
/// The message never repeats the password.
pub fn refuse_password(location: &str) -> Result<(), StoreError> {
    let l = location.trim();
    let rest = l.split_once("://").map_or(l, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let has_userinfo_password = authority
        .rsplit_once('@')
        .is_some_and(|(userinfo, _)| userinfo.contains(':'));
    let has_param = l
        .split_once('?')
        .is_some_and(|(_, q)| q.split('&').any(|kv| kv.starts_with("password=")));
    if has_userinfo_password || has_param {
        return Err(StoreError::PasswordInLocation);
    }
    Ok(())
}

impl PgLocation {
    /// Parses a `postgresql://` / `postgres://` URL, refusing a password in it, and fills
    /// the password in from `PGPASSWORD`, the URL's `passfile`, `PGPASSFILE` or
    /// `~/.pgpass`.
    pub fn parse(location: &str) -> Result<Self, StoreError> {
        let location = location.trim();
        refuse_password(location)?;
        let (base, query) = location.split_once('?').unwrap_or((location, ""));
        let mut kept = Vec::new();
        let mut tls = TlsMode::Prefer;
        let mut passfile = None;
        let mut root_cert = None;
        for kv in query.split('&').filter(|s| !s.is_empty()) {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            let v = percent_decode(v);
            match k {
                "sslmode" => {
                    tls = match v.as_str() {
                        "disable" => TlsMode::Disable,
                        "allow" | "prefer" => TlsMode::Prefer,
                        "require" | "verify-ca" | "verify-full" => TlsMode::Require,
                        other => {
                            return Err(bad(
                                location,
                                format!(
                                    "sslmode '{other}' is not one of disable, prefer, require, verify-ca, verify-full"
                                ),
                            ));
                        }
                    }
                }
                "passfile" => passfile = Some(PathBuf::from(v)),
                "sslrootcert" => root_cert = Some(PathBuf::from(v)),
                _ => kept.push(kv),
            }
        }
        let url = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        let mut config: tokio_postgres::Config = url.parse().map_err(|e| bad(location, e))?;
        config.ssl_mode(match tls {
            TlsMode::Disable => tokio_postgres::config::SslMode::Disable,
            TlsMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            TlsMode::Require => tokio_postgres::config::SslMode::Require,
        });
        if config.get_user().is_none() {
            let user = std::env::var("PGUSER")
                .or_else(|_| std::env::var("USER"))
                .map_err(|_| {
                    bad(
                        location,
                        "no user name: write postgresql://USER@HOST/DB or set PGUSER",
                    )
                })?;
            config.user(&user);
        }
        let user = config.get_user().unwrap_or_default().to_string();
        if config.get_dbname().is_none() {
            config.dbname(&user);
        }
        let dbname = config.get_dbname().unwrap_or_default().to_string();
        let host = match config.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
            #[cfg(unix)]
            Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
            None => {
                config.host("localhost");
                "localhost".to_string()
            }
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let password = match std::env::var("PGPASSWORD") {
            Ok(p) if !p.is_empty() => Some(p),
            _ => {
                let file = passfile
                    .or_else(|| std::env::var_os("PGPASSFILE").map(PathBuf::from))
                    .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".pgpass")));
                match file {
                    Some(f) => pgpass_lookup(&f, &host, port, &dbname, &user)?,
                    None => None,
                }
            }
        };
        if let Some(p) = password {
            config.password(p);
        }
        Ok(PgLocation {
            display: location.to_string(),
            config,
            tls,
            root_cert,
            host: format!("{host}:{port}"),
            user,
            dbname,
        })
    }
}

/// Splits one `.pgpass` line into its five fields (`\:` and `\\` are escapes).
fn pgpass_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(n), Some(f)) = (chars.next(), fields.last_mut()) {
                    f.push(n);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => {
                if let Some(f) = fields.last_mut() {
                    f.push(c)
                }
            }
        }
    }
    fields
}

/// Looks a password up in a libpq password file (`host:port:db:user:password`, `*`
/// matches anything, first match wins). A missing file is no password; a file that
/// others can read is ignored with a warning, as libpq does.
pub fn pgpass_lookup(
    file: &Path,
    host: &str,
    port: u16,
    dbname: &str,
    user: &str,
) -> Result<Option<String>, StoreError> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(StoreError::Io {
                path: file.to_path_buf(),
                source,
            });
        }
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(file)
            && m.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                file = %file.display(),
                "password file has group or world access; it is ignored (chmod 0600 it)"
            );
            return Ok(None);
        }
    }
    let port = port.to_string();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let f = pgpass_fields(line);
        if f.len() != 5 {
            continue;
        }
        let m = |pat: &str, v: &str| pat == "*" || pat == v;
        let host_ok = m(&f[0], host) || (f[0] == "localhost" && host == "127.0.0.1");
        if host_ok && m(&f[1], &port) && m(&f[2], dbname) && m(&f[3], user) {
            return Ok(Some(f[4].clone()));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_are_recognised_and_paths_are_not() {
        assert!(is_postgres("postgresql://u@h:5432/db"));
        assert!(is_postgres("postgres://u@h/db"));
        assert!(!is_postgres("/var/lib/cloudcensus/store.db"));
        assert!(!is_postgres("postgresql.db"));
    }

    #[test]
    fn a_password_in_the_location_is_refused_without_repeating_it() {
        for url in [
            "postgresql://scanner:hunter2@db.example:5432/census",
            "postgres://scanner@db.example/census?password=hunter2",
        ] {
            let err = PgLocation::parse(url).unwrap_err().to_string();
            assert!(
                err.contains("PGPASSWORD") && err.contains(".pgpass"),
                "{err}"
            );
            assert!(!err.contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn pgpass_matches_host_port_database_and_user_with_wildcards() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pgpass");
        std::fs::write(
            &f,
            "# comment\nother:5432:*:scanner:wrong\ndb\\:x:5432:census:scanner:a\\:b\n*:*:*:scanner:fallback\n",
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let got = pgpass_lookup(&f, "db:x", 5432, "census", "scanner").unwrap();
        assert_eq!(got.as_deref(), Some("a:b"));
        let got = pgpass_lookup(&f, "elsewhere", 6000, "x", "scanner").unwrap();
        assert_eq!(got.as_deref(), Some("fallback"));
        assert_eq!(pgpass_lookup(&f, "h", 1, "d", "nobody").unwrap(), None);
    }

    #[test]
    fn sslmode_verify_full_requires_tls_and_unknown_modes_are_refused() {
        let l = PgLocation::parse(
            "postgresql://u@db.example/census?sslmode=verify-full&sslrootcert=/etc/ca.pem",
        )
        .unwrap();
        assert_eq!(l.tls, TlsMode::Require);
        assert_eq!(l.root_cert.as_deref(), Some(Path::new("/etc/ca.pem")));
        assert_eq!(l.host, "db.example:5432");
        let err = PgLocation::parse("postgresql://u@h/db?sslmode=sometimes")
            .unwrap_err()
            .to_string();
        assert!(err.contains("sslmode 'sometimes'"), "{err}");
    }
}
