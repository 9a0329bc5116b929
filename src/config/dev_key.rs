//! A secret a development server keeps in its data folder when none is configured (the
//! signing key, the encryption key): made once, then read back at each start.

use std::path::Path;

/// The secret kept in `data_dir/file` when `usable` accepts it; else a new one from
/// `generate`, written there (readable by its owner only) with a warning that `setting` is
/// not set.
pub fn dev_secret(
    data_dir: &Path,
    file: &str,
    setting: &str,
    usable: impl Fn(&str) -> bool,
    generate: impl FnOnce() -> String,
) -> Result<String, String> {
    let path = data_dir.join(file);
    if let Ok(s) = std::fs::read_to_string(&path)
        && usable(s.trim())
    {
        return Ok(s.trim().to_string());
    }
    std::fs::create_dir_all(data_dir)
        .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
    let secret = generate();
    std::fs::write(&path, &secret).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    }
    tracing::warn!(path = %path.display(), "{setting} not set: generated a development key");
    Ok(secret)
}
