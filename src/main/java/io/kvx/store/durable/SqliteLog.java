package io.kvx.store.durable;

import io.kvx.store.WatchEvent;
import io.kvx.store.hazelcast.Sequencer;
import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The embedded durable backend: one SQLite file (WAL, synchronous=FULL) holding the current value of
 * every key and the last revision. Replaced and deleted rows leave free pages that incremental
 * vacuum gives back, and the WAL is truncated at each maintenance, so under steady churn of the same
 * keys the file stops growing (kine's SQLite file, which keeps every revision, does not).
 */
public final class SqliteLog implements DurableLog {

  private final Path file;
  private final Connection conn;
  // Prepared once: preparing them per batch was a visible share of the sequencer's worker time.
  private final PreparedStatement put;
  private final PreparedStatement del;
  private final PreparedStatement revision;

  public SqliteLog(Path file) throws SQLException {
    this.file = file;
    try {
      Files.createDirectories(file.getParent());
    } catch (java.io.IOException e) {
      throw new SQLException("cannot create " + file.getParent(), e);
    }
    // No generated keys: the driver would otherwise prepare and run "select last_insert_rowid()" after every
    // executeUpdate (the revision row of each batch), a statement nothing here reads.
    org.sqlite.SQLiteConfig config = new org.sqlite.SQLiteConfig();
    config.setGetGeneratedKeys(false);
    conn = DriverManager.getConnection("jdbc:sqlite:" + file, config.toProperties());
    try (Statement s = conn.createStatement()) {
      // Must precede the first table; an older file without it is converted once by VACUUM.
      s.execute("PRAGMA auto_vacuum=INCREMENTAL");
      s.execute("PRAGMA journal_mode=WAL");
      s.execute("PRAGMA synchronous=FULL");
      s.execute("CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, rev INTEGER NOT NULL, value TEXT NOT NULL)");
      s.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
      try (ResultSet rs = s.executeQuery("PRAGMA auto_vacuum")) {
        if (rs.next() && rs.getInt(1) != 2) s.execute("VACUUM");
      }
    }
    conn.setAutoCommit(false);
    put = conn.prepareStatement("INSERT OR REPLACE INTO kv(key, rev, value) VALUES (?,?,?)");
    del = conn.prepareStatement("DELETE FROM kv WHERE key=?");
    revision = conn.prepareStatement("INSERT INTO meta(name, value) VALUES ('revision', ?) "
        + "ON CONFLICT(name) DO UPDATE SET value=max(value, excluded.value)");
  }

  @Override
  public long lastRevision() throws SQLException {
    try (Statement s = conn.createStatement();
         ResultSet rs = s.executeQuery("SELECT value FROM meta WHERE name='revision'")) {
      long rev = rs.next() ? rs.getLong(1) : 0;
      conn.commit();
      return rev;
    }
  }

  @Override
  public Map<String, JsonObject> loadAll() throws SQLException {
    Map<String, JsonObject> out = new HashMap<>();
    try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery("SELECT key, value FROM kv")) {
      while (rs.next()) out.put(rs.getString(1), new JsonObject(rs.getString(2)));
    }
    conn.commit();
    return out;
  }

  @Override
  public void commit(List<Sequencer.Change> changes) throws SQLException {
    if (changes.isEmpty()) return;
    try {
      long max = 0;
      for (Sequencer.Change c : changes) {
        // Deletes and puts are applied in batch order per kind; a key deleted and re-created in
        // one batch must end up present, so a put also clears an earlier delete of its key.
        if (c.type().equals(WatchEvent.DELETED)) {
          put.executeBatch();
          del.setString(1, c.key());
          del.executeUpdate();
        } else {
          put.setString(1, c.key());
          put.setLong(2, c.revision());
          put.setString(3, c.encoded());
          put.addBatch();
        }
        max = Math.max(max, c.revision());
      }
      put.executeBatch();
      setRevision(max);
      conn.commit();
    } catch (SQLException e) {
      put.clearBatch();
      conn.rollback();
      throw e;
    }
  }

  @Override
  public void replaceAll(Map<String, JsonObject> objects, long newest) throws SQLException {
    try {
      DurableLog.writeDifference(conn, "kv", objects, put, del);
      setRevision(newest);
      conn.commit();
    } catch (SQLException e) {
      put.clearBatch();
      del.clearBatch();
      conn.rollback();
      throw e;
    }
  }

  private void setRevision(long rev) throws SQLException {
    revision.setLong(1, rev);
    revision.executeUpdate();
  }

  @Override
  public void maintain() throws SQLException {
    conn.commit();
    conn.setAutoCommit(true);
    try (Statement s = conn.createStatement()) {
      s.execute("PRAGMA incremental_vacuum");
      s.execute("PRAGMA wal_checkpoint(TRUNCATE)");
    } finally {
      conn.setAutoCommit(false);
    }
  }

  @Override
  public boolean shared() {
    return false;
  }

  @Override
  public String describe() {
    return "sqlite " + file;
  }

  @Override
  public void close() throws SQLException {
    conn.close();
  }
}
