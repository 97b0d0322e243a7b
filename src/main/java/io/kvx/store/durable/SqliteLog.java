package io.kvx.store.durable;

import io.kvx.store.hazelcast.Sequencer;
import io.kvx.store.WatchEvent;
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
 * every key and the last revision. A batch of changes is one transaction, so one fsync acknowledges
 * the whole batch (group commit). Blocking: call from a worker thread only.
 */
public final class SqliteLog implements AutoCloseable {

  private final Connection conn;

  public SqliteLog(Path file) throws SQLException {
    try {
      Files.createDirectories(file.getParent());
    } catch (java.io.IOException e) {
      throw new SQLException("cannot create " + file.getParent(), e);
    }
    conn = DriverManager.getConnection("jdbc:sqlite:" + file);
    try (Statement s = conn.createStatement()) {
      s.execute("PRAGMA journal_mode=WAL");
      s.execute("PRAGMA synchronous=FULL");
      s.execute("CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, rev INTEGER NOT NULL, value TEXT NOT NULL)");
      s.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
    }
    conn.setAutoCommit(false);
  }

  public long lastRevision() throws SQLException {
    try (Statement s = conn.createStatement();
         ResultSet rs = s.executeQuery("SELECT value FROM meta WHERE name='revision'")) {
      return rs.next() ? rs.getLong(1) : 0;
    }
  }

  public Map<String, JsonObject> loadAll() throws SQLException {
    Map<String, JsonObject> out = new HashMap<>();
    try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery("SELECT key, value FROM kv")) {
      while (rs.next()) out.put(rs.getString(1), new JsonObject(rs.getString(2)));
    }
    return out;
  }

  /** Writes a batch in one transaction; returns when it is on disk. */
  public void commit(List<Sequencer.Change> changes) throws SQLException {
    if (changes.isEmpty()) return;
    try (PreparedStatement put = conn.prepareStatement("INSERT OR REPLACE INTO kv(key, rev, value) VALUES (?,?,?)");
         PreparedStatement del = conn.prepareStatement("DELETE FROM kv WHERE key=?")) {
      long max = 0;
      for (Sequencer.Change c : changes) {
        if (c.type().equals(WatchEvent.DELETED)) {
          del.setString(1, c.key());
          del.addBatch();
        } else {
          put.setString(1, c.key());
          put.setLong(2, c.revision());
          put.setString(3, c.object().encode());
          put.addBatch();
        }
        max = Math.max(max, c.revision());
      }
      put.executeBatch();
      del.executeBatch();
      setRevision(max);
      conn.commit();
    } catch (SQLException e) {
      conn.rollback();
      throw e;
    }
  }

  /** Replaces the whole content (a new leader whose file is behind the cluster's state). */
  public void replaceAll(Map<String, JsonObject> objects, long revision) throws SQLException {
    try (Statement s = conn.createStatement();
         PreparedStatement put = conn.prepareStatement("INSERT INTO kv(key, rev, value) VALUES (?,?,?)")) {
      s.execute("DELETE FROM kv");
      for (Map.Entry<String, JsonObject> e : objects.entrySet()) {
        put.setString(1, e.getKey());
        put.setLong(2, Long.parseLong(e.getValue().getJsonObject("metadata").getString("resourceVersion")));
        put.setString(3, e.getValue().encode());
        put.addBatch();
      }
      put.executeBatch();
      setRevision(revision);
      conn.commit();
    } catch (SQLException e) {
      conn.rollback();
      throw e;
    }
  }

  private void setRevision(long rev) throws SQLException {
    try (PreparedStatement p = conn.prepareStatement(
        "INSERT INTO meta(name, value) VALUES ('revision', ?) ON CONFLICT(name) DO UPDATE SET value=max(value, excluded.value)")) {
      p.setLong(1, rev);
      p.executeUpdate();
    }
  }

  @Override
  public void close() throws SQLException {
    conn.close();
  }
}
