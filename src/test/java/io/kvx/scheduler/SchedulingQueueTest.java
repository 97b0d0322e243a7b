package io.kvx.scheduler;

import io.kvx.scheduler.framework.ClusterEvent;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;

import static io.kvx.scheduler.Fixtures.pod;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class SchedulingQueueTest {

  @Test
  void higherPriorityFirstThenFifo() {
    SchedulingQueue q = new SchedulingQueue(1000, 10_000);
    q.addOrUpdate(pod("a", "{}"), 0, true);
    q.addOrUpdate(pod("b", "{'priority':10}"), 1, true);
    q.addOrUpdate(pod("c", "{}"), 2, true);
    assertEquals("default/b", q.pop(3).pod().key());
    assertEquals("default/a", q.pop(3).pod().key());
    assertEquals("default/c", q.pop(3).pod().key());
    assertNull(q.pop(3));
  }

  @Test
  void backoffDoublesUpToTheMaximum() {
    SchedulingQueue q = new SchedulingQueue(1000, 10_000);
    q.addOrUpdate(pod("a", "{}"), 0, true);
    long now = 0;
    long[] waits = {1000, 2000, 4000, 8000, 10_000, 10_000};
    for (long w : waits) {
      SchedulingQueue.Entry e = q.pop(now);
      q.backoff(e, now);
      assertNull(q.pop(now + w - 1));
      now += w;
    }
  }

  @Test
  void unschedulablePodsMoveOnlyOnEventsTheirRejectorsCareAbout() {
    SchedulingQueue q = new SchedulingQueue(1000, 10_000);
    q.addOrUpdate(pod("a", "{}"), 0, true);
    SchedulingQueue.Entry e = q.pop(0);
    q.unschedulable(e, Set.of("NodeResourcesFit"), 0);
    Map<String, Set<ClusterEvent>> events = Map.of("NodeResourcesFit",
        Set.of(ClusterEvent.NODE_ADD, ClusterEvent.ASSIGNED_POD_DELETE));
    assertEquals(0, q.onEvent(ClusterEvent.ASSIGNED_POD_ADD, 5000, events::get));
    assertEquals(1, q.unschedulableSize());
    assertEquals(1, q.onEvent(ClusterEvent.ASSIGNED_POD_DELETE, 5000, events::get));
    assertEquals("default/a", q.pop(5000).pod().key());
  }

  @Test
  void movedPodsStillServeTheirBackoff() {
    SchedulingQueue q = new SchedulingQueue(1000, 10_000);
    q.addOrUpdate(pod("a", "{}"), 0, true);
    q.unschedulable(q.pop(0), Set.of(), 0);
    q.onEvent(ClusterEvent.NODE_ADD, 100, n -> null);
    assertEquals(1, q.backoffSize());
    assertNull(q.pop(999));
    assertEquals("default/a", q.pop(1000).pod().key());
  }

  @Test
  void leftoversRetryAfterFiveMinutes() {
    SchedulingQueue q = new SchedulingQueue(1000, 10_000);
    q.addOrUpdate(pod("a", "{}"), 0, true);
    q.unschedulable(q.pop(0), Set.of("X"), 0);
    q.flushUnschedulableLeftover(SchedulingQueue.MAX_UNSCHEDULABLE_MS - 1);
    assertEquals(1, q.unschedulableSize());
    q.flushUnschedulableLeftover(SchedulingQueue.MAX_UNSCHEDULABLE_MS);
    assertEquals(0, q.unschedulableSize());
    assertEquals("default/a", q.pop(SchedulingQueue.MAX_UNSCHEDULABLE_MS).pod().key());
  }

  @Test
  void statusOnlyUpdatesLeaveUnschedulablePodsParked() {
    SchedulingQueue q = new SchedulingQueue(1000, 10_000);
    q.addOrUpdate(pod("a", "{}"), 0, true);
    q.unschedulable(q.pop(0), Set.of("X"), 0);
    q.addOrUpdate(pod("a", "{}"), 5000, false);
    assertEquals(1, q.unschedulableSize());
    q.addOrUpdate(pod("a", "{'tolerations':[{'operator':'Exists'}]}"), 5000, true);
    assertEquals(0, q.unschedulableSize());
  }
}
