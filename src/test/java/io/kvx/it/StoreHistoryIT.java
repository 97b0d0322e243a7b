package io.kvx.it;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * DESIGN §2.7: the watch history is bounded by count and by age. A watch from inside the retained
 * history replays it; from before it, 410 Gone with reason Expired.
 */
class StoreHistoryIT {

  private static final String CMS = "/api/v1/namespaces/default/configmaps";

  @Test
  void historyIsBoundedByCountAndByAge() throws Exception {
    try (KvxProcess p = KvxProcess.start("history", Files.createTempDirectory("kvx-it-history"), 17811, "server",
        "--roles", "sequencer,apiserver", "--cluster-port", "5809", "--secret", "it-store-history",
        "--history-count", "50", "--history-age", "4s")) {
      p.awaitReady(Duration.ofSeconds(60));
      ApiHttp api = new ApiHttp(p);
      List<Long> rvs = new ArrayList<>();
      for (int i = 0; i < 80; i++) rvs.add(create(api, "h" + i));
      // Count: the newest 50 events are kept, so a watch from the 41st write replays and from the
      // 11th is expired.
      assertEquals(200L, firstEvent(api, rvs.get(40))[0], "inside the retained count");
      assertEquals(rvs.get(41), firstEvent(api, rvs.get(40))[1], "replays from the next revision");
      assertEquals(410L, firstEvent(api, rvs.get(10))[0], "beyond the retained count");
      // Age: after 4 s without writes everything has expired, so even the newest version's
      // predecessor is gone while the newest itself is still a valid place to start.
      Thread.sleep(6_000);
      assertEquals(410L, firstEvent(api, rvs.get(78))[0], "older than the retained age");
      long next = create(api, "after");
      assertEquals(next, firstEvent(api, rvs.get(79))[1], "from the newest version, the next write");
    }
  }

  private static long create(ApiHttp api, String name) throws Exception {
    ApiHttp.Reply r = api.send("POST", CMS, new JsonObject().put("apiVersion", "v1").put("kind", "ConfigMap")
        .put("metadata", new JsonObject().put("name", name)).put("data", new JsonObject().put("k", "v")));
    assertEquals(201, r.code(), r.body().encode());
    return Long.parseLong(r.body().getJsonObject("metadata").getString("resourceVersion"));
  }

  /** {status or ERROR code, revision of the first event (0 if none)} of a watch from {@code rv}. */
  private static Long[] firstEvent(ApiHttp api, long rv) throws Exception {
    HttpResponse<Stream<String>> r = api.stream(CMS + "?watch=true&resourceVersion=" + rv + "&timeoutSeconds=2");
    try (Stream<String> lines = r.body()) {
      if (r.statusCode() != 200) return new Long[] {(long) r.statusCode(), 0L};
      Iterator<String> it = lines.iterator();
      if (!it.hasNext()) return new Long[] {200L, 0L};
      JsonObject ev = new JsonObject(it.next());
      JsonObject obj = ev.getJsonObject("object");
      if ("ERROR".equals(ev.getString("type"))) {
        assertEquals("Expired", obj.getString("reason"));
        return new Long[] {obj.getLong("code"), 0L};
      }
      return new Long[] {200L, Long.parseLong(obj.getJsonObject("metadata").getString("resourceVersion"))};
    }
  }
}
