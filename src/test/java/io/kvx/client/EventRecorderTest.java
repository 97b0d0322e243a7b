package io.kvx.client;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class EventRecorderTest {

  private static JsonObject event(int i) {
    return new JsonObject().put("metadata", new JsonObject().put("namespace", "default")).put("n", i);
  }

  @Test
  void eventsAreNamedByTheirTimeSoTheyListInOrder() {
    long t = 1_795_000_000_000_000_000L;
    String first = EventRecorder.eventName("web-1", t);
    assertEquals("web-1." + Long.toHexString(t), first);
    // The same instant again, or a clock step back, still names a later event after the earlier one.
    String second = EventRecorder.eventName("web-1", t);
    String third = EventRecorder.eventName("web-1", t - 5);
    org.junit.jupiter.api.Assertions.assertTrue(first.compareTo(second) < 0 && second.compareTo(third) < 0,
        first + " " + second + " " + third);
  }

  @Test
  void aBurstGoesOutAtOnceTheRestAtTheRateAndTheOverflowIsDropped() {
    long[] now = {0};
    List<JsonObject> sent = new ArrayList<>();
    List<Runnable> timers = new ArrayList<>();
    EventRecorder.Sink sink = new EventRecorder.Sink(sent::add, () -> now[0], (ms, task) -> timers.add(task));
    for (int i = 0; i < EventRecorder.BURST + EventRecorder.QUEUE + 50; i++) sink.offer(event(i));
    assertEquals(EventRecorder.BURST, sent.size(), "the burst");
    assertEquals(EventRecorder.QUEUE, sink.queued(), "queued, in order");
    assertEquals(50, sink.dropped(), "the newest beyond the queue are dropped");
    assertEquals(1, timers.size(), "one drain scheduled");
    now[0] += 1_000_000_000L;
    timers.remove(0).run();
    assertEquals(EventRecorder.BURST + EventRecorder.QPS, sent.size(), "one second later, one second's worth more");
    assertEquals(EventRecorder.BURST, sent.get(EventRecorder.BURST).getInteger("n"), "oldest first");
    assertEquals(1, timers.size(), "and the drain goes on");
  }

  @Test
  void aQuietRecorderSendsAtOnce() {
    List<JsonObject> sent = new ArrayList<>();
    EventRecorder.Sink sink = new EventRecorder.Sink(sent::add, () -> 0L, (ms, task) -> {
      throw new AssertionError("no timer needed");
    });
    sink.offer(event(1));
    assertEquals(1, sent.size());
  }

  @Test
  void aRepeatWithinTenMinutesCountsUpTheEventItRepeats() {
    long[] now = {0};
    List<JsonObject> sent = new ArrayList<>();
    EventRecorder.Sink sink = new EventRecorder.Sink(sent::add, () -> now[0], (ms, task) -> { });
    JsonObject failed = new JsonObject().put("metadata", new JsonObject().put("name", "p.1").put("namespace", "default"))
        .put("involvedObject", new JsonObject().put("name", "p").put("uid", "u").put("resourceVersion", "5"))
        .put("source", new JsonObject().put("component", "kubelet")).put("type", "Warning").put("reason", "BackOff")
        .put("message", "Back-off pulling image").put("firstTimestamp", "T1").put("lastTimestamp", "T1").put("count", 1);
    sink.offer(failed.copy());
    now[0] += 30_000_000_000L;
    JsonObject again = failed.copy().put("lastTimestamp", "T2");
    again.getJsonObject("metadata").put("name", "p.2");
    again.getJsonObject("involvedObject").put("resourceVersion", "9");
    sink.offer(again);
    assertEquals("p.1", sent.get(1).getJsonObject("metadata").getString("name"), "the same event");
    assertEquals(2, sent.get(1).getInteger("count"));
    assertEquals("T1", sent.get(1).getString("firstTimestamp"));
    assertEquals("T2", sent.get(1).getString("lastTimestamp"));
    now[0] += EventRecorder.REPEAT_WINDOW_NANOS;
    JsonObject late = failed.copy();
    late.getJsonObject("metadata").put("name", "p.3");
    sink.offer(late);
    assertEquals(1, sent.get(2).getInteger("count"), "after ten minutes quiet, a new event");
    JsonObject other = failed.copy().put("message", "another");
    other.getJsonObject("metadata").put("name", "p.4");
    sink.offer(other);
    assertEquals("p.4", sent.get(3).getJsonObject("metadata").getString("name"));
  }
}
