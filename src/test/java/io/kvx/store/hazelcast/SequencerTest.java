package io.kvx.store.hazelcast;

import io.kvx.api.ApiError;
import io.kvx.api.Meta;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SequencerTest {

  private static final String KEY = "core/pods/default/web";

  private static JsonObject pod(String image) {
    return new JsonObject().put("metadata", new JsonObject().put("name", "web").put("namespace", "default"))
        .put("spec", new JsonObject().put("image", image));
  }

  @Test
  void everyWriteGetsTheNextRevision() {
    Sequencer s = new Sequencer();
    Sequencer.Change a = s.create(KEY, pod("a"), "2026-01-01T00:00:00Z");
    Sequencer.Change b = s.create("core/pods/default/other", pod("a"), "2026-01-01T00:00:00Z");
    Sequencer.Change c = s.update(KEY, pod("b"), a.revision());
    Sequencer.Change d = s.delete(KEY, 0, null);
    assertEquals(1, a.revision());
    assertEquals(2, b.revision());
    assertEquals(3, c.revision());
    assertEquals(4, d.revision());
    assertEquals("3", Meta.meta(c.object()).getString("resourceVersion"));
    assertEquals("4", Meta.meta(d.object()).getString("resourceVersion"));
  }

  @Test
  void writesLeaveWhatTheyWereHandedAndWhatWasKeptAsTheyWere() {
    Sequencer s = new Sequencer();
    JsonObject handed = pod("a");
    Sequencer.Change created = s.create(KEY, handed, "now");
    assertEquals(pod("a"), handed, "the caller's object is not written to");
    // An update built over the kept object's parts (as pods/binding builds it): the kept one keeps its version.
    JsonObject kept = created.object();
    JsonObject next = new JsonObject(new java.util.LinkedHashMap<>(kept.getMap()))
        .put("spec", new JsonObject().put("image", "b"));
    Sequencer.Change updated = s.update(KEY, next, created.revision());
    assertEquals("1", Meta.meta(kept).getString("resourceVersion"));
    assertEquals("2", Meta.meta(updated.object()).getString("resourceVersion"));
    Sequencer.Change deleted = s.delete(KEY, 0, null);
    assertEquals("2", Meta.meta(updated.object()).getString("resourceVersion"), "a delete's last state is its own");
    assertEquals("3", Meta.meta(deleted.object()).getString("resourceVersion"));
  }

  @Test
  void createOfAnExistingKeyIsAlreadyExists() {
    Sequencer s = new Sequencer();
    s.create(KEY, pod("a"), "now");
    ApiError e = assertThrows(ApiError.class, () -> s.create(KEY, pod("a"), "now"));
    assertEquals(ApiError.Reason.AlreadyExists, e.reason());
    assertEquals(409, e.code());
    assertEquals(1, s.revision(), "a refused write takes no revision");
  }

  @Test
  void staleRevisionIsConflictAndChangesNothing() {
    Sequencer s = new Sequencer();
    long rv = s.create(KEY, pod("a"), "now").revision();
    s.update(KEY, pod("b"), rv);
    ApiError e = assertThrows(ApiError.class, () -> s.update(KEY, pod("c"), rv));
    assertEquals(ApiError.Reason.Conflict, e.reason());
    assertThrows(ApiError.class, () -> s.delete(KEY, rv, null));
    assertEquals("b", s.snapshot().get(KEY).getJsonObject("spec").getString("image"));
  }

  @Test
  void uidAndCreationTimestampAreSetOnceAndGenerationCountsSpecChanges() {
    Sequencer s = new Sequencer();
    JsonObject created = s.create(KEY, pod("a"), "2026-01-01T00:00:00Z").object();
    String uid = Meta.uid(created);
    assertNotNull(uid);
    JsonObject sneaky = pod("a");
    Meta.meta(sneaky).put("uid", "forged").put("creationTimestamp", "1999-01-01T00:00:00Z");
    sneaky.put("status", new JsonObject().put("phase", "Running"));
    JsonObject statusOnly = s.update(KEY, sneaky, 0).object();
    assertEquals(uid, Meta.uid(statusOnly));
    assertEquals("2026-01-01T00:00:00Z", Meta.meta(statusOnly).getString("creationTimestamp"));
    assertEquals(1L, Meta.meta(statusOnly).getLong("generation"));
    JsonObject specChange = s.update(KEY, pod("b"), 0).object();
    assertEquals(2L, Meta.meta(specChange).getLong("generation"));
  }

  @Test
  void kindsKubeKeepsNoGenerationForHaveNone() {
    Sequencer s = new Sequencer();
    String cm = "core/configmaps/default/c";
    JsonObject withOne = new JsonObject().put("metadata", new JsonObject().put("name", "c").put("generation", 7))
        .put("data", new JsonObject().put("a", "1"));
    JsonObject created = s.create(cm, withOne, "now").object();
    assertNull(Meta.meta(created).getValue("generation"));
    assertNull(Meta.meta(s.update(cm, withOne, 0).object()).getValue("generation"));
    assertEquals(true, Sequencer.tracksGeneration("apps/deployments/default/d"));
    assertEquals(true, Sequencer.tracksGeneration("example.com/widgets/default/w"));
    assertEquals(false, Sequencer.tracksGeneration("core/secrets/default/s"));
  }

  @Test
  void aPodsBindingLeavesItsGenerationAnImageChangeMovesIt() {
    Sequencer s = new Sequencer();
    Sequencer.Change created = s.create(KEY, pod("a"), "now");
    JsonObject bound = pod("a");
    bound.getJsonObject("spec").put("nodeName", "n1");
    Sequencer.Change b = s.update(KEY, bound, created.revision());
    assertEquals(1L, Meta.meta(b.object()).getLong("generation"));
    JsonObject changed = pod("b");
    changed.getJsonObject("spec").put("nodeName", "n1");
    assertEquals(2L, Meta.meta(s.update(KEY, changed, b.revision()).object()).getLong("generation"));
  }

  @Test
  void deleteWithWrongUidPreconditionIsConflict() {
    Sequencer s = new Sequencer();
    s.create(KEY, pod("a"), "now");
    assertThrows(ApiError.class, () -> s.delete(KEY, 0, "not-the-uid"));
    ApiError e = assertThrows(ApiError.class, () -> s.delete("core/pods/default/none", 0, null));
    assertEquals(404, e.code());
  }

  @Test
  void recoveryReplaysOnlyNewerLogRecordsAndContinuesUpward() {
    Sequencer leader = new Sequencer();
    Sequencer.Change c1 = leader.create(KEY, pod("a"), "now");
    Sequencer.Change c2 = leader.update(KEY, pod("b"), 0);
    Sequencer.Change c3 = leader.delete(KEY, 0, null);
    Sequencer next = new Sequencer();
    next.restore(Map.of(KEY, c2.object()), 0);
    next.replay(c1);
    next.replay(c2);
    next.replay(c3);
    assertTrue(next.snapshot().isEmpty());
    assertEquals(3, next.revision());
    next.beginEpoch("term-2", 1024);
    assertEquals(3 + 1024 + 1, next.create(KEY, pod("z"), "now").revision(),
        "a new term skips past what a dead leader may have shown readers");
  }
}
