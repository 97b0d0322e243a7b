package io.kvx.controller;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * client-go's work queue semantics: a key waits at most once, a key being processed is never handed
 * out again until {@link #done}, and a key added meanwhile runs once more afterwards. Failures back
 * off exponentially per key. Pure; not thread-safe (one event loop owns it).
 */
public final class WorkQueue {

  private static final long BASE_DELAY_MS = 50;
  private static final long MAX_DELAY_MS = 30_000;

  private final ArrayDeque<String> queue = new ArrayDeque<>();
  private final Set<String> dirty = new HashSet<>();
  private final Set<String> processing = new HashSet<>();
  private final Map<String, Integer> failures = new HashMap<>();
  private long adds;

  /** Queues a key; false when it was already waiting. */
  public boolean add(String key) {
    if (dirty.contains(key)) return false;
    adds++;
    dirty.add(key);
    if (!processing.contains(key)) queue.add(key);
    return true;
  }

  /** The next key to process, or null. */
  public String take() {
    String key = queue.poll();
    if (key == null) return null;
    dirty.remove(key);
    processing.add(key);
    return key;
  }

  /** Processing ended; a key added meanwhile goes back in line. */
  public void done(String key) {
    processing.remove(key);
    if (dirty.contains(key)) queue.add(key);
  }

  /** How long to wait before retrying a failed key: 50 ms doubling to 30 s. */
  public long failed(String key) {
    int n = failures.merge(key, 1, Integer::sum);
    return Math.min(MAX_DELAY_MS, BASE_DELAY_MS << Math.min(20, n - 1));
  }

  public void forget(String key) {
    failures.remove(key);
  }

  public int depth() {
    return queue.size();
  }

  public long adds() {
    return adds;
  }

  public boolean isProcessing(String key) {
    return processing.contains(key);
  }
}
