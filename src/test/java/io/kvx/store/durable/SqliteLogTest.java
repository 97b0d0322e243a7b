package io.kvx.store.durable;

import io.kvx.store.WatchEvent;
import io.kvx.store.hazelcast.Sequencer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SqliteLogTest {

  private static Sequencer.Change change(String key, String type, long rev, String payload) {
    JsonObject obj = new JsonObject().put("metadata", new JsonObject().put("name", key)
        .put("resourceVersion", String.valueOf(rev))).put("data", new JsonObject().put("v", payload));
    return new Sequencer.Change(key, type, obj, rev, "e");
  }

  @Test
  void aKeyDeletedAndCreatedAgainInOneBatchIsPresent(@TempDir Path dir) throws Exception {
    try (SqliteLog log = new SqliteLog(dir.resolve("store.db"))) {
      log.commit(List.of(change("a", WatchEvent.ADDED, 1, "x")));
      log.commit(List.of(change("a", WatchEvent.DELETED, 2, "x"), change("a", WatchEvent.ADDED, 3, "y"),
          change("b", WatchEvent.ADDED, 4, "z"), change("b", WatchEvent.DELETED, 5, "z")));
      Map<String, JsonObject> all = log.loadAll();
      assertEquals(List.of("a"), List.copyOf(all.keySet()));
      assertEquals("3", all.get("a").getJsonObject("metadata").getString("resourceVersion"));
      assertEquals(5, log.lastRevision(), "a delete counts as a revision");
    }
  }

  @Test
  void replaceAllWritesTheDifferenceAndNeverLowersTheRevision(@TempDir Path dir) throws Exception {
    try (SqliteLog log = new SqliteLog(dir.resolve("store.db"))) {
      log.commit(List.of(change("a", WatchEvent.ADDED, 1, "x"), change("b", WatchEvent.ADDED, 2, "x")));
      log.replaceAll(Map.of("b", change("b", WatchEvent.ADDED, 2, "x").object(),
          "c", change("c", WatchEvent.ADDED, 7, "x").object()), 1);
      assertEquals(Map.of("b", 2L, "c", 7L), versions(log.loadAll()));
      assertEquals(2, log.lastRevision());
    }
  }

  @Test
  void theFileStopsGrowingUnderChurnOfTheSameKeys(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("store.db");
    String payload = "x".repeat(1000);
    long rev = 0;
    List<Long> sizes = new ArrayList<>();
    try (SqliteLog log = new SqliteLog(file)) {
      for (int round = 0; round < 12; round++) {
        for (int batch = 0; batch < 10; batch++) {
          List<Sequencer.Change> changes = new ArrayList<>();
          for (int k = 0; k < 100; k++) {
            String type = (round + batch + k) % 7 == 0 ? WatchEvent.DELETED : WatchEvent.MODIFIED;
            changes.add(change("key" + (batch * 100 + k), type, ++rev, payload + rev));
          }
          log.commit(changes);
        }
        log.maintain();
        sizes.add(Files.size(file) + walSize(file));
      }
    }
    long early = sizes.get(3);
    long last = sizes.getLast();
    assertTrue(last <= early * 1.1, "the file stays the same size under churn: " + sizes);
  }

  private static long walSize(Path file) throws Exception {
    Path wal = file.resolveSibling(file.getFileName() + "-wal");
    return Files.exists(wal) ? Files.size(wal) : 0;
  }

  private static Map<String, Long> versions(Map<String, JsonObject> all) {
    Map<String, Long> out = new java.util.TreeMap<>();
    all.forEach((k, v) -> out.put(k, Long.parseLong(v.getJsonObject("metadata").getString("resourceVersion"))));
    return out;
  }
}
