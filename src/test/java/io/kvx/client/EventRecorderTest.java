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
}
