package io.kvx.controller;

import io.kvx.api.Meta;
import io.kvx.api.Resources;
import io.kvx.store.WatchEvent;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

class CacheTest {

  private static long rv = 1;

  private static JsonObject pod(String ns, String name, String ownerUid, String node) {
    JsonObject meta = new JsonObject().put("name", name).put("namespace", ns).put("uid", "u-" + name)
        .put("resourceVersion", String.valueOf(rv++));
    if (ownerUid != null) {
      meta.put("ownerReferences", new JsonArray().add(new JsonObject().put("kind", "ReplicaSet").put("name", "rs")
          .put("uid", ownerUid).put("controller", true)));
    }
    JsonObject spec = new JsonObject();
    if (node != null) spec.put("nodeName", node);
    return new JsonObject().put("metadata", meta).put("spec", spec);
  }

  private static Set<String> names(List<JsonObject> objects) {
    return objects.stream().map(Meta::name).collect(Collectors.toSet());
  }

  private static void put(Cache c, JsonObject o) {
    c.onEvent(new WatchEvent(WatchEvent.MODIFIED, o, Meta.resourceVersion(o)));
  }

  @Test
  void indexesFollowEveryChange() {
    Cache pods = new Cache(Resources.PODS);
    put(pods, pod("a", "p1", "rs1", null));
    put(pods, pod("a", "p2", "rs1", "n1"));
    put(pods, pod("a", "p3", null, "n1"));
    put(pods, pod("b", "p4", null, null));
    put(pods, pod("b", "p5", "rs2", "n2"));

    assertEquals(Set.of("p1", "p2", "p3"), names(pods.list("a")));
    assertEquals(5, pods.list(null).size());
    assertEquals(Set.of("p1", "p2"), names(pods.controlledBy("rs1")));
    assertEquals(Set.of("p3"), names(pods.orphans("a")));
    assertEquals(Set.of("p4"), names(pods.orphans("b")));
    assertEquals(Set.of("p2", "p3"), names(pods.onNode("n1")));

    // Released by its owner and bound: it moves between index entries.
    put(pods, pod("a", "p1", null, "n2"));
    assertEquals(Set.of("p2"), names(pods.controlledBy("rs1")));
    assertEquals(Set.of("p1", "p3"), names(pods.orphans("a")));
    assertEquals(Set.of("p1", "p5"), names(pods.onNode("n2")));

    pods.onEvent(new WatchEvent(WatchEvent.DELETED, pod("a", "p2", "rs1", "n1"), 0));
    assertEquals(Set.of(), names(pods.controlledBy("rs1")));
    assertEquals(Set.of("p3"), names(pods.onNode("n1")));
    assertEquals(Set.of("p1", "p3"), names(pods.list("a")));
    assertEquals(Set.of(), names(pods.list("nope")));
  }

  @Test
  void keptAcrossALostLeaseTheCacheReplaysItsObjectsToNewListeners() {
    Cache pods = new Cache(Resources.PODS);
    List<String> first = new java.util.ArrayList<>();
    pods.listen(c -> first.add(Meta.name(c.object())));
    put(pods, pod("a", "p1", null, null));
    put(pods, pod("a", "p2", null, null));
    // The lease is lost: the controllers (listeners) go, the cache keeps following.
    pods.clearListeners();
    put(pods, pod("a", "p3", null, null));
    pods.onEvent(new WatchEvent(WatchEvent.DELETED, pod("a", "p1", null, null), 0));
    assertEquals(List.of("p1", "p2"), first);
    // Won back: the new controllers hear of every current object as an add.
    List<Cache.Change> second = new java.util.ArrayList<>();
    pods.listen(second::add);
    pods.replay();
    assertEquals(Set.of("p2", "p3"), second.stream().map(c -> Meta.name(c.current())).collect(Collectors.toSet()));
    assertEquals(2, second.stream().filter(c -> c.old() == null).count());
  }
}
