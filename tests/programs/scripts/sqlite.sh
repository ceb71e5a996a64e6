# sqlite3: a 10,000-row table in a scratch database, then queries.
set -e
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
sqlite3 "$d/db" <<'SQL'
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v INTEGER);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 10000)
INSERT INTO t SELECT i, 'row' || i, (i * 7919) % 1000 FROM c;
CREATE INDEX t_v ON t(v);
SQL
sqlite3 "$d/db" 'SELECT count(*), sum(v), max(name) FROM t;'
sqlite3 "$d/db" 'SELECT v, count(*) FROM t WHERE v < 5 GROUP BY v;'
sqlite3 "$d/db" 'BEGIN; UPDATE t SET v = v + 1 WHERE id % 2 = 0; COMMIT; SELECT sum(v) FROM t;'
sqlite3 "$d/db" 'PRAGMA journal_mode=WAL; INSERT INTO t(name, v) VALUES ("wal", 1); SELECT count(*) FROM t;'
sqlite3 "$d/db" 'PRAGMA integrity_check;'
