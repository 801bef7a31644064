//! Settings an editor sends: `initializationOptions` and `workspace/didChangeConfiguration`.
//!
//! Either the settings object itself or `{"threatlens": {...}}` (what VS Code sends for a
//! configuration section). Keys (all optional):
//!
//! | key | meaning |
//! | --- | --- |
//! | `select` | rule ids, id prefixes, slugs or categories to enable; **replaces** the config file's `select` |
//! | `ignore` | rules to disable; **added to** the config file's `ignore` |
//! | `minimumSeverity` | `low` (default), `medium`, `high` or `critical`: findings below are not shown |
//! | `debounceMs` | delay between the last edit and the re-analysis (default 30) |
//! | `scanWorkspace` | analyse every file of the workspace at start (default true) |
//! | `logTimings` | log re-parse and analysis times of every re-analysis, and what it re-analysed (one function, or the whole file and why) (`window/logMessage`, type Log) |
//!
//! Editor settings are merged over `threatlens.toml` / `[tool.threatlens]`: the file stays the
//! project's shared policy, the editor narrows or widens what one person sees.

use serde::Deserialize;
use serde_json::Value;
use std::time::Duration;
use threatlens_rules::config::Settings;
use threatlens_rules::{Config, Severity};

pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(30);

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClientSettings {
    pub select: Option<Vec<String>>,
    pub ignore: Option<Vec<String>>,
    pub minimum_severity: Option<Severity>,
    pub debounce_ms: Option<u64>,
    pub scan_workspace: Option<bool>,
    pub log_timings: Option<bool>,
}

impl ClientSettings {
    /// Reads settings sent by the client; `null` means "no settings".
    pub fn from_value(value: Option<&Value>) -> Result<Self, String> {
        let Some(value) = value else {
            return Ok(Self::default());
        };
        let value = value.get("threatlens").unwrap_or(value);
        if value.is_null() {
            return Ok(Self::default());
        }
        serde_json::from_value(value.clone()).map_err(|e| format!("invalid settings: {e}"))
    }

    pub fn debounce(&self) -> Duration {
        self.debounce_ms
            .map_or(DEFAULT_DEBOUNCE, Duration::from_millis)
            .min(Duration::from_secs(10))
    }

    pub fn minimum_severity(&self) -> Severity {
        self.minimum_severity.unwrap_or(Severity::Low)
    }

    pub fn scan_workspace(&self) -> bool {
        self.scan_workspace.unwrap_or(true)
    }

    pub fn log_timings(&self) -> bool {
        self.log_timings.unwrap_or(false)
    }

    /// The configuration file's settings with these merged over them.
    pub fn merge(&self, base: &Config) -> Result<Config, String> {
        if self.select.is_none() && self.ignore.is_none() {
            return Ok(base.clone());
        }
        let mut settings: Settings = base.settings.clone();
        if let Some(select) = &self.select {
            settings.select = select.clone();
        }
        if let Some(ignore) = &self.ignore {
            settings.ignore.extend(ignore.iter().cloned());
        }
        Config::from_settings(settings, base.file.clone(), base.root.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_plain_and_sectioned_settings() {
        let plain = json!({"select": ["TL1"], "minimumSeverity": "high", "debounceMs": 0});
        let settings = ClientSettings::from_value(Some(&plain)).unwrap();
        assert_eq!(settings.select, Some(vec!["TL1".to_string()]));
        assert_eq!(settings.minimum_severity(), Severity::High);
        assert_eq!(settings.debounce(), Duration::ZERO);
        let sectioned = json!({"threatlens": plain});
        assert_eq!(
            ClientSettings::from_value(Some(&sectioned)).unwrap(),
            settings
        );
        assert_eq!(
            ClientSettings::from_value(None).unwrap(),
            ClientSettings::default()
        );
        assert!(ClientSettings::from_value(Some(&json!({"minimumSeverity": "huge"}))).is_err());
    }

    #[test]
    fn merge_replaces_select_and_extends_ignore() {
        let base = Settings {
            select: vec!["TL2".into()],
            ignore: vec!["TL303".into()],
            ..Settings::default()
        };
        let base = Config::from_settings(base, None, ".".into()).unwrap();
        let client = ClientSettings {
            select: Some(vec!["TL1".into()]),
            ignore: Some(vec!["TL101".into()]),
            ..Default::default()
        };
        let merged = client.merge(&base).unwrap();
        assert_eq!(merged.settings.select, vec!["TL1"]);
        assert_eq!(merged.settings.ignore, vec!["TL303", "TL101"]);
    }
}
