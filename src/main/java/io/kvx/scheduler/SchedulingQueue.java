package io.kvx.scheduler;

import io.kvx.scheduler.framework.ClusterEvent;
import io.kvx.scheduler.framework.PodInfo;
import io.kvx.scheduler.plugins.queuesort.PrioritySort;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.function.Function;

/**
 * kube-scheduler's three queues, pure (time is passed in): active (highest priority first, then
 * oldest), backoff (pods that failed, waiting initial × 2^(attempts−1) up to the maximum) and
 * unschedulable (pods no node fits, parked until a cluster event that can help one of the plugins that
 * rejected them, or for at most {@link #MAX_UNSCHEDULABLE_MS}).
 */
public final class SchedulingQueue {

  /** kube-scheduler's podMaxInUnschedulablePodsDuration. */
  public static final long MAX_UNSCHEDULABLE_MS = 5 * 60_000;

  /** A queued pod and its scheduling history. */
  public static final class Entry {
    PodInfo pod;
    final long queuedAt;
    int attempts;
    long lastAttemptAt;
    Set<String> rejectors = Set.of();
    long seq;

    Entry(PodInfo pod, long now, long seq) {
      this.pod = pod;
      this.queuedAt = now;
      this.seq = seq;
    }

    public PodInfo pod() {
      return pod;
    }

    public int attempts() {
      return attempts;
    }
  }

  private enum Where { ACTIVE, BACKOFF, UNSCHEDULABLE, IN_FLIGHT }

  private final long initialBackoffMs;
  private final long maxBackoffMs;
  private final Map<String, Entry> entries = new HashMap<>();
  private final Map<String, Where> where = new HashMap<>();
  private final PriorityQueue<Entry> active = new PriorityQueue<>(
      (a, b) -> {
        int c = PrioritySort.compare(a.pod, a.seq, b.pod, b.seq);
        return c;
      });
  private final PriorityQueue<Entry> backoff;
  private final Map<String, Entry> unschedulable = new LinkedHashMap<>();
  private long seq;

  public SchedulingQueue(long initialBackoffMs, long maxBackoffMs) {
    this.initialBackoffMs = initialBackoffMs;
    this.maxBackoffMs = maxBackoffMs;
    this.backoff = new PriorityQueue<>(Comparator.comparingLong(this::backoffUntil));
  }

  /** A new pending pod, or a new version of one already queued. */
  public void addOrUpdate(PodInfo pod, long now, boolean specChanged) {
    Entry e = entries.get(pod.key());
    if (e == null) {
      e = new Entry(pod, now, seq++);
      entries.put(pod.key(), e);
      where.put(pod.key(), Where.ACTIVE);
      active.add(e);
      return;
    }
    Where w = where.get(pod.key());
    if (w == Where.ACTIVE) {
      active.remove(e);
      e.pod = pod;
      active.add(e);
    } else if (w == Where.BACKOFF) {
      backoff.remove(e);
      e.pod = pod;
      backoff.add(e);
    } else {
      e.pod = pod;
      // An update may make an unschedulable pod fit (new tolerations, smaller requests).
      if (w == Where.UNSCHEDULABLE && specChanged) move(e, now);
    }
  }

  public void delete(String key) {
    Entry e = entries.remove(key);
    Where w = where.remove(key);
    if (e == null || w == null) return;
    switch (w) {
      case ACTIVE -> active.remove(e);
      case BACKOFF -> backoff.remove(e);
      case UNSCHEDULABLE -> unschedulable.remove(key);
      case IN_FLIGHT -> { }
    }
  }

  public boolean contains(String key) {
    return entries.containsKey(key);
  }

  /** The next pod to schedule (after moving pods whose backoff expired), or null. */
  public Entry pop(long now) {
    flushBackoff(now);
    Entry e = active.poll();
    if (e == null) return null;
    where.put(e.pod.key(), Where.IN_FLIGHT);
    e.attempts++;
    e.lastAttemptAt = now;
    return e;
  }

  /** The attempt ended: the pod fits nowhere now. */
  public void unschedulable(Entry e, Set<String> rejectors, long now) {
    if (!entries.containsKey(e.pod.key())) return;
    e.rejectors = rejectors;
    e.lastAttemptAt = now;
    where.put(e.pod.key(), Where.UNSCHEDULABLE);
    unschedulable.put(e.pod.key(), e);
  }

  /** The attempt failed for another reason (binding error): retry after backoff. */
  public void backoff(Entry e, long now) {
    if (!entries.containsKey(e.pod.key())) return;
    e.lastAttemptAt = now;
    where.put(e.pod.key(), Where.BACKOFF);
    backoff.add(e);
  }

  /** The pod is bound (or gone): forget it. */
  public void done(String key) {
    delete(key);
  }

  /**
   * A cluster event: unschedulable pods that a plugin interested in it rejected go back to active (or
   * backoff if their backoff has not expired). Returns how many moved.
   */
  public int onEvent(ClusterEvent event, long now, Function<String, Set<ClusterEvent>> pluginEvents) {
    List<Entry> moving = new ArrayList<>();
    for (Entry e : unschedulable.values()) {
      if (e.rejectors.isEmpty() || e.rejectors.stream().anyMatch(p -> {
        Set<ClusterEvent> ev = pluginEvents.apply(p);
        return ev == null || ev.contains(event);
      })) {
        moving.add(e);
      }
    }
    for (Entry e : moving) move(e, now);
    return moving.size();
  }

  /** Pods unschedulable for longer than {@link #MAX_UNSCHEDULABLE_MS} are retried anyway. */
  public void flushUnschedulableLeftover(long now) {
    List<Entry> moving = new ArrayList<>();
    for (Entry e : unschedulable.values()) if (now - e.lastAttemptAt >= MAX_UNSCHEDULABLE_MS) moving.add(e);
    for (Entry e : moving) move(e, now);
  }

  private void move(Entry e, long now) {
    unschedulable.remove(e.pod.key());
    if (backoffUntil(e) > now) {
      where.put(e.pod.key(), Where.BACKOFF);
      backoff.add(e);
    } else {
      where.put(e.pod.key(), Where.ACTIVE);
      active.add(e);
    }
  }

  private void flushBackoff(long now) {
    while (!backoff.isEmpty() && backoffUntil(backoff.peek()) <= now) {
      Entry e = backoff.poll();
      where.put(e.pod.key(), Where.ACTIVE);
      active.add(e);
    }
  }

  long backoffUntil(Entry e) {
    if (e.attempts == 0) return 0;
    long d = initialBackoffMs;
    for (int i = 1; i < e.attempts && d < maxBackoffMs; i++) d *= 2;
    return e.lastAttemptAt + Math.min(d, maxBackoffMs);
  }

  /** When the earliest backoff expires, or -1. */
  public long nextBackoffAt() {
    return backoff.isEmpty() ? -1 : backoffUntil(backoff.peek());
  }

  public boolean hasActive(long now) {
    flushBackoff(now);
    return !active.isEmpty();
  }

  public int activeSize() {
    return active.size();
  }

  public int backoffSize() {
    return backoff.size();
  }

  public int unschedulableSize() {
    return unschedulable.size();
  }
}
