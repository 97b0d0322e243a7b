package io.kvx.store.durable;

import io.kvx.store.hazelcast.Sequencer;
import io.vertx.core.json.JsonObject;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The store's durable backend (DESIGN §2.5): the latest value of every key and the newest revision.
 * A batch of changes is one transaction, so one sync to disk acknowledges the whole batch (group
 * commit). It keeps no history: the watch history lives in the change log and the watch caches, so
 * the backend stays as large as the live data under any churn. Blocking: call from one worker at a
 * time (Vert.x's ordered executeBlocking), never from an event loop.
 */
public interface DurableLog extends AutoCloseable {

  /** Opens the backend that {@code datastore} names: "sqlite" (the file under home) or a postgres:// URL. */
  static DurableLog open(String datastore, Path home) throws Exception {
    if (datastore == null || datastore.isEmpty() || datastore.equals("sqlite")) {
      return new SqliteLog(home.resolve("data").resolve("store.db"));
    }
    if (datastore.startsWith("postgres://") || datastore.startsWith("postgresql://")) return new PostgresLog(datastore);
    throw new IllegalArgumentException("unknown datastore " + datastore + " (sqlite or postgres://USER:PASS@HOST:PORT/DB)");
  }

  /**
   * The writes that make a table equal to {@code objects}: the rows ({@code key, rev}) the table
   * holds are compared by revision; upserts ({@code key, rev, json}) and deletes ({@code key}) of
   * what differs are added to the two batches and executed. Shared by the SQL backends.
   */
  static void writeDifference(java.sql.Connection c, String table, Map<String, JsonObject> objects,
                              java.sql.PreparedStatement put, java.sql.PreparedStatement del)
      throws java.sql.SQLException {
    Map<String, Long> held = new java.util.HashMap<>();
    try (java.sql.Statement s = c.createStatement();
         java.sql.ResultSet rs = s.executeQuery("SELECT key, rev FROM " + table)) {
      while (rs.next()) held.put(rs.getString(1), rs.getLong(2));
    }
    for (Map.Entry<String, JsonObject> e : objects.entrySet()) {
      long rev = io.kvx.api.Meta.resourceVersion(e.getValue());
      if (Long.valueOf(rev).equals(held.remove(e.getKey()))) continue;
      put.setString(1, e.getKey());
      put.setLong(2, rev);
      put.setString(3, e.getValue().encode());
      put.addBatch();
    }
    for (String gone : held.keySet()) {
      del.setString(1, gone);
      del.addBatch();
    }
    put.executeBatch();
    del.executeBatch();
  }

  /** The newest revision ever committed (deletes included). */
  long lastRevision() throws Exception;

  Map<String, JsonObject> loadAll() throws Exception;

  /** Writes a batch in one transaction; returns once it is durable. */
  void commit(List<Sequencer.Change> changes) throws Exception;

  /**
   * Makes the content equal to {@code objects} (a new leader whose backend is behind or ahead of the
   * cluster's state); writes only the keys that differ. The revision never goes down.
   */
  void replaceAll(Map<String, JsonObject> objects, long revision) throws Exception;

  /** Gives free space back (called periodically, between batches). */
  void maintain() throws Exception;

  /**
   * True when every sequencer JVM reaches the same data (PostgreSQL): only the leader may write
   * it. A per-JVM log (SQLite) is kept in step by the JVMs that do not lead.
   */
  boolean shared();

  /** Where the data lives, for logs (no password). */
  String describe();

  @Override
  void close() throws Exception;
}
