-- JWKS monitor (issue 6): the key-set history of each monitored identity provider.
CREATE TABLE jwks_keys (
  idp TEXT NOT NULL,
  kid TEXT NOT NULL,
  thumbprint TEXT NOT NULL,          -- RFC 7638 thumbprint of the public key
  kty TEXT NOT NULL,
  alg TEXT,
  added_at TEXT NOT NULL,            -- first fetch that showed it
  baseline INTEGER NOT NULL,         -- 1 when present at the monitor's first fetch (real age unknown)
  last_seen_at TEXT NOT NULL,
  removed_at TEXT,                   -- first fetch that no longer showed it; NULL while published
  PRIMARY KEY (idp, kid)
) WITHOUT ROWID;

CREATE TABLE jwks_fetch_state (
  idp TEXT PRIMARY KEY,
  first_fetch_at TEXT,
  last_ok_at TEXT,
  last_error_at TEXT,
  last_error TEXT
);
