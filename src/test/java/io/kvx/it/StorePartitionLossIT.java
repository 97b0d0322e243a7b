package io.kvx.it;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two of three store JVMs SIGKILLed at once, the leader among them: Hazelcast keeps one backup of each partition, so
 * the partitions whose owner and backup both died are lost from the objects map. The survivor recovers from its
 * durable log instead: every object written before is there, can be changed, and cannot be created again.
 */
class StorePartitionLossIT {

  private static final int COUNT = 300;
  private static final List<KvxProcess> JVMS = new ArrayList<>();

  @AfterAll
  static void down() throws Exception {
    for (KvxProcess p : JVMS) p.close();
  }

  @Test
  void theSurvivorOfTwoLostJvmsHasEveryObject() throws Exception {
    String secret = "it-partition-loss";
    KvxProcess a = KvxProcess.start("loss-a", Files.createTempDirectory("kvx-it-loss-a"), 17461, "server", "--roles",
        "sequencer,apiserver", "--cluster-port", "5941", "--secret", secret, "--history-age", "5s");
    JVMS.add(a);
    a.awaitReady(Duration.ofSeconds(60));
    KvxProcess b = KvxProcess.start("loss-b", Files.createTempDirectory("kvx-it-loss-b"), 17462, "server", "--roles",
        "sequencer,apiserver", "--join", "127.0.0.1:5941", "--cluster-port", "5942", "--secret", secret, "--history-age", "5s");
    JVMS.add(b);
    KvxProcess c = KvxProcess.start("loss-c", Files.createTempDirectory("kvx-it-loss-c"), 17463, "server", "--roles",
        "sequencer,apiserver", "--join", "127.0.0.1:5941", "--cluster-port", "5943", "--secret", secret, "--history-age", "5s");
    JVMS.add(c);
    // An API server without a sequencer of its own.
    KvxProcess d = KvxProcess.start("loss-d", Files.createTempDirectory("kvx-it-loss-d"), 17464, "server", "--roles",
        "apiserver", "--join", "127.0.0.1:5941", "--cluster-port", "5944", "--secret", secret);
    JVMS.add(d);
    b.awaitReady(Duration.ofSeconds(60));
    c.awaitReady(Duration.ofSeconds(60));
    d.awaitReady(Duration.ofSeconds(60));

    ApiHttp viaA = new ApiHttp(a);
    List<CompletableFuture<ApiHttp.Reply>> creates = new ArrayList<>();
    for (int i = 0; i < COUNT; i++) {
      creates.add(viaA.sendAsync("POST", "/api/v1/namespaces/default/configmaps", new JsonObject()
          .put("metadata", new JsonObject().put("name", "cm-" + i)).put("data", new JsonObject().put("i", "" + i))));
    }
    for (CompletableFuture<ApiHttp.Reply> f : creates) assertEquals(201, f.get().code(), f.get().body().encode());
    // The followers' durable logs follow the change log a moment behind the leader's; and the change log keeps 5 s
    // of history here, so that it no longer holds the creates: the objects map alone does.
    Thread.sleep(8000);

    a.kill();
    b.kill();
    c.awaitLog("sequencer: leading", Duration.ofSeconds(60));
    ApiHttp viaC = new ApiHttp(c);
    int missing = 0;
    for (int i = 0; i < COUNT; i++) {
      String path = "/api/v1/namespaces/default/configmaps/cm-" + i;
      ApiHttp.Reply patched = viaC.send("PATCH", path, "application/merge-patch+json", "{\"data\":{\"after\":\"yes\"}}");
      if (patched.code() != 200) missing++;
    }
    String log = Files.readString(c.log);
    assertEquals(0, missing, "objects the survivor could not change; its log:\n" + log);
    ApiHttp.Reply again = viaC.send("POST", "/api/v1/namespaces/default/configmaps", new JsonObject()
        .put("metadata", new JsonObject().put("name", "cm-7")));
    assertEquals(409, again.code(), again.body().encode());
    assertEquals(COUNT, viaC.get("/api/v1/namespaces/default/configmaps").body().getJsonArray("items").stream()
        .filter(o -> ((JsonObject) o).getJsonObject("metadata").getString("name").startsWith("cm-")).count());
    assertTrue(log.contains("lost partition") || log.contains("recovered from the durable log"),
        "Hazelcast reported lost partitions and the survivor recovered from its durable log");

    // With no sequencer left the API server is not ready: reads work, writes would wait.
    ApiHttp viaD = new ApiHttp(d);
    assertEquals(200, viaD.get("/readyz").code());
    c.kill();
    ApiHttp.Reply notReady = null;
    for (int i = 0; i < 50; i++) {
      notReady = viaD.get("/readyz?verbose");
      if (notReady.code() == 503) break;
      Thread.sleep(200);
    }
    assertEquals(503, notReady.code(), String.valueOf(notReady.body()));
  }
}
