package io.kvx.store.durable;

import io.kvx.store.WatchEvent;
import io.kvx.store.hazelcast.Sequencer;
import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * PostgreSQL as the durable backend, for clusters: every sequencer JVM reaches the same database, so
 * a whole-cluster restart recovers from whichever JVM leads first. Same shape as {@link SqliteLog}:
 * the latest row per key and the newest revision, one transaction per batch (synchronous_commit on,
 * so committed means on the server's disk). Plain JDBC; callers run it on a worker thread.
 */
public final class PostgresLog implements DurableLog {

  private final String url;
  private final Properties props = new Properties();
  private final String where;
  private Connection conn;

  /** {@code postgres://USER:PASS@HOST:PORT/DB[?sslmode=...]}, the libpq URL form. */
  public PostgresLog(String datastore) throws SQLException {
    URI u = URI.create(datastore);
    String userInfo = u.getRawUserInfo();
    if (userInfo != null) {
      String[] up = userInfo.split(":", 2);
      props.setProperty("user", URLDecoder.decode(up[0], StandardCharsets.UTF_8));
      if (up.length > 1) props.setProperty("password", URLDecoder.decode(up[1], StandardCharsets.UTF_8));
    }
    int port = u.getPort() > 0 ? u.getPort() : 5432;
    String db = u.getPath() == null || u.getPath().length() <= 1 ? "postgres" : u.getPath().substring(1);
    url = "jdbc:postgresql://" + u.getHost() + ":" + port + "/" + db + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery());
    where = "postgres " + u.getHost() + ":" + port + "/" + db;
    props.setProperty("reWriteBatchedInserts", "true");
    props.setProperty("tcpKeepAlive", "true");
    connect();
    try (Statement s = conn.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS kvx_kv (key TEXT PRIMARY KEY, rev BIGINT NOT NULL, value TEXT NOT NULL)");
      s.execute("CREATE TABLE IF NOT EXISTS kvx_meta (name TEXT PRIMARY KEY, value BIGINT NOT NULL)");
      conn.commit();
    }
  }

  private void connect() throws SQLException {
    if (conn != null) {
      try {
        conn.close();
      } catch (SQLException ignored) {
        // a broken connection
      }
    }
    conn = DriverManager.getConnection(url, props);
    conn.setAutoCommit(false);
  }

  /** Runs one transaction; on a broken connection reconnects once and runs it again (it is atomic). */
  private <T> T tx(SqlWork<T> work) throws SQLException {
    for (int attempt = 0; ; attempt++) {
      try {
        if (conn.isClosed()) connect();
        T out = work.run(conn);
        conn.commit();
        return out;
      } catch (SQLException e) {
        try {
          conn.rollback();
        } catch (SQLException ignored) {
          // the connection is gone
        }
        boolean connectionLost = e.getSQLState() != null && e.getSQLState().startsWith("08");
        if (!connectionLost || attempt > 0) throw e;
        connect();
      }
    }
  }

  private interface SqlWork<T> {
    T run(Connection c) throws SQLException;
  }

  @Override
  public long lastRevision() throws SQLException {
    return tx(c -> {
      try (Statement s = c.createStatement();
           ResultSet rs = s.executeQuery("SELECT value FROM kvx_meta WHERE name='revision'")) {
        return rs.next() ? rs.getLong(1) : 0L;
      }
    });
  }

  @Override
  public Map<String, JsonObject> loadAll() throws SQLException {
    return tx(c -> {
      Map<String, JsonObject> out = new HashMap<>();
      try (Statement s = c.createStatement()) {
        s.setFetchSize(1000);
        try (ResultSet rs = s.executeQuery("SELECT key, value FROM kvx_kv")) {
          while (rs.next()) out.put(rs.getString(1), new JsonObject(rs.getString(2)));
        }
      }
      return out;
    });
  }

  private static final String UPSERT = "INSERT INTO kvx_kv(key, rev, value) VALUES (?,?,?) "
      + "ON CONFLICT (key) DO UPDATE SET rev=excluded.rev, value=excluded.value";

  @Override
  public void commit(List<Sequencer.Change> changes) throws SQLException {
    if (changes.isEmpty()) return;
    // Only the last change of a key in a batch reaches the table (one statement per key).
    Map<String, Sequencer.Change> last = new HashMap<>();
    long max = 0;
    for (Sequencer.Change c : changes) {
      last.put(c.key(), c);
      max = Math.max(max, c.revision());
    }
    long revision = max;
    tx(c -> {
      try (PreparedStatement put = c.prepareStatement(UPSERT);
           PreparedStatement del = c.prepareStatement("DELETE FROM kvx_kv WHERE key=?")) {
        boolean puts = false;
        boolean dels = false;
        for (Sequencer.Change ch : last.values()) {
          if (ch.type().equals(WatchEvent.DELETED)) {
            del.setString(1, ch.key());
            del.addBatch();
            dels = true;
          } else {
            put.setString(1, ch.key());
            put.setLong(2, ch.revision());
            put.setString(3, ch.encoded());
            put.addBatch();
            puts = true;
          }
        }
        if (puts) put.executeBatch();
        if (dels) del.executeBatch();
        setRevision(c, revision);
      }
      return null;
    });
  }

  @Override
  public void replaceAll(Map<String, JsonObject> objects, long revision) throws SQLException {
    tx(c -> {
      try (PreparedStatement put = c.prepareStatement(UPSERT);
           PreparedStatement del = c.prepareStatement("DELETE FROM kvx_kv WHERE key=?")) {
        DurableLog.writeDifference(c, "kvx_kv", objects, put, del);
        setRevision(c, revision);
      }
      return null;
    });
  }

  private static void setRevision(Connection c, long rev) throws SQLException {
    try (PreparedStatement p = c.prepareStatement("INSERT INTO kvx_meta(name, value) VALUES ('revision', ?) "
        + "ON CONFLICT (name) DO UPDATE SET value=GREATEST(kvx_meta.value, excluded.value)")) {
      p.setLong(1, rev);
      p.executeUpdate();
    }
  }

  @Override
  public void maintain() {
    // PostgreSQL's autovacuum reclaims replaced rows.
  }

  @Override
  public boolean shared() {
    return true;
  }

  @Override
  public String describe() {
    return where;
  }

  @Override
  public void close() throws SQLException {
    conn.close();
  }
}
