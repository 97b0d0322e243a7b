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

  /**
   * Lists read as kube-apiserver reads them: a paged list is one snapshot however the objects change between its
   * pages; resourceVersionMatch=Exact lists the objects as they were; a list's revision once compacted is 410,
   * for a continued list with a token that goes on at the newest revision; a revision the store has not reached
   * is 504 after a wait; bad list options are 422 naming the field.
   */
  @Test
  void listsAreSnapshotsAtTheirResourceVersion() throws Exception {
    try (KvxProcess p = KvxProcess.start("snapshot", Files.createTempDirectory("kvx-it-snapshot"), 17816, "server",
        "--roles", "sequencer,apiserver", "--cluster-port", "5816", "--secret", "it-store-snapshot",
        "--history-count", "40")) {
      p.awaitReady(Duration.ofSeconds(60));
      ApiHttp api = new ApiHttp(p);
      for (int i = 0; i < 10; i++) create(api, "p0" + i);
      ApiHttp.Reply first = api.get(CMS + "?labelSelector=kind%3Dpaged&limit=3");
      assertEquals(200, first.code(), first.body().encode());
      String rv0 = first.body().getJsonObject("metadata").getString("resourceVersion");
      // Between the pages: one served object and one not yet served change, one not yet served goes, one comes.
      change(api, "p01");
      change(api, "p07");
      assertEquals(200, api.send("DELETE", CMS + "/p05", null).code());
      create(api, "p10");
      List<String> seen = new ArrayList<>(names(first));
      String cont = first.body().getJsonObject("metadata").getString("continue");
      while (cont != null) {
        ApiHttp.Reply page = api.get(CMS + "?labelSelector=kind%3Dpaged&limit=3&continue=" + cont);
        assertEquals(200, page.code(), page.body().encode());
        assertEquals(rv0, page.body().getJsonObject("metadata").getString("resourceVersion"), "every page at one rv");
        for (Object o : page.body().getJsonArray("items")) {
          assertEquals("v", ((JsonObject) o).getJsonObject("data").getString("k"), "the data as it was at " + rv0);
        }
        seen.addAll(names(page));
        cont = page.body().getJsonObject("metadata").getString("continue");
      }
      assertEquals(List.of("p00", "p01", "p02", "p03", "p04", "p05", "p06", "p07", "p08", "p09"), seen);
      ApiHttp.Reply exact = api.get(CMS + "?labelSelector=kind%3Dpaged&resourceVersion=" + rv0
          + "&resourceVersionMatch=Exact");
      assertEquals(rv0, exact.body().getJsonObject("metadata").getString("resourceVersion"));
      assertEquals(seen, names(exact));
      ApiHttp.Reply now = api.get(CMS + "?labelSelector=kind%3Dpaged&resourceVersion=" + rv0
          + "&resourceVersionMatch=NotOlderThan");
      assertEquals(List.of("p00", "p01", "p02", "p03", "p04", "p06", "p07", "p08", "p09", "p10"), names(now),
          "not older than: the newest");

      // Compacted: 40 events kept, so 45 more writes push the list's revision out of the history.
      ApiHttp.Reply paged = api.get(CMS + "?labelSelector=kind%3Dpaged&limit=4");
      for (int i = 0; i < 45; i++) change(api, "p0" + (i % 5));
      ApiHttp.Reply old = api.get(CMS + "?labelSelector=kind%3Dpaged&resourceVersion=" + rv0
          + "&resourceVersionMatch=Exact");
      assertEquals(410, old.code(), old.body().encode());
      assertEquals("The resourceVersion for the provided list is too old.", old.body().getString("message"));
      ApiHttp.Reply expired = api.get(CMS + "?labelSelector=kind%3Dpaged&limit=4&continue="
          + paged.body().getJsonObject("metadata").getString("continue"));
      assertEquals(410, expired.code(), expired.body().encode());
      assertEquals("Expired", expired.body().getString("reason"));
      String inconsistent = expired.body().getJsonObject("metadata").getString("continue");
      ApiHttp.Reply rest = api.get(CMS + "?labelSelector=kind%3Dpaged&limit=10&continue=" + inconsistent);
      assertEquals(200, rest.code(), rest.body().encode());
      assertEquals(List.of("p04", "p06", "p07", "p08", "p09", "p10"), names(rest), "the rest, at the newest revision");

      long ahead = Long.parseLong(rv0) + 1_000_000;
      ApiHttp.Reply future = api.get(CMS + "?resourceVersion=" + ahead + "&resourceVersionMatch=NotOlderThan");
      assertEquals(504, future.code(), future.body().encode());
      assertEquals("ResourceVersionTooLarge",
          future.body().getJsonObject("details").getJsonArray("causes").getJsonObject(0).getString("reason"));

      ApiHttp.Reply bad = api.get(CMS + "?resourceVersionMatch=Exact");
      assertEquals(422, bad.code(), bad.body().encode());
      assertEquals("resourceVersionMatch",
          bad.body().getJsonObject("details").getJsonArray("causes").getJsonObject(0).getString("field"));
      assertEquals(422, api.get(CMS + "?resourceVersion=1&resourceVersionMatch=Newest").code());
      assertEquals(422, api.get(CMS + "?sendInitialEvents=true").code());
      assertEquals(400, api.get(CMS + "?limit=2&continue=bm90LWpzb24").code());
    }
  }

  private static void change(ApiHttp api, String name) throws Exception {
    ApiHttp.Reply r = api.send("PATCH", CMS + "/" + name, "application/merge-patch+json",
        "{\"data\":{\"k\":\"changed-" + System.nanoTime() + "\"}}");
    assertEquals(200, r.code(), r.body().encode());
  }

  private static List<String> names(ApiHttp.Reply list) {
    List<String> out = new ArrayList<>();
    for (Object o : list.body().getJsonArray("items")) {
      out.add(((JsonObject) o).getJsonObject("metadata").getString("name"));
    }
    return out;
  }

  private static long create(ApiHttp api, String name) throws Exception {
    ApiHttp.Reply r = api.send("POST", CMS, new JsonObject().put("apiVersion", "v1").put("kind", "ConfigMap")
        .put("metadata", new JsonObject().put("name", name).put("labels", new JsonObject().put("kind", "paged")))
        .put("data", new JsonObject().put("k", "v")));
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
