package io.kvx.proxy;

import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Runs one asynchronous sync at a time, at most once per minimum interval: requests that arrive while
 * a sync runs or while the interval has not passed collapse into one more sync (kube-proxy's bounded
 * frequency runner, without the max interval: periodic resyncs are the caller's timer). Not
 * thread-safe: requests, timers and completions all arrive on one context.
 */
public final class SyncRunner {

  /** Schedules a callback on the runner's context after a delay. */
  public interface Timers {
    void schedule(long delayMillis, Runnable action);
  }

  private final long minIntervalNanos;
  private final LongSupplier nanoClock;
  private final Timers timers;
  private final Consumer<Runnable> sync;
  private boolean pending;
  private boolean running;
  private boolean scheduled;
  private boolean stopped;
  private long lastStartNanos;
  private boolean ever;

  /**
   * @param sync starts one sync and calls the given completion callback (on the same context) when it
   *             ended, successfully or not
   */
  public SyncRunner(long minIntervalMillis, LongSupplier nanoClock, Timers timers, Consumer<Runnable> sync) {
    this.minIntervalNanos = minIntervalMillis * 1_000_000L;
    this.nanoClock = nanoClock;
    this.timers = timers;
    this.sync = sync;
  }

  public void request() {
    pending = true;
    maybeRun();
  }

  public void stop() {
    stopped = true;
  }

  public boolean running() {
    return running;
  }

  private void maybeRun() {
    if (stopped || running || scheduled || !pending) return;
    long now = nanoClock.getAsLong();
    long wait = ever ? lastStartNanos + minIntervalNanos - now : 0;
    if (wait > 0) {
      scheduled = true;
      timers.schedule(Math.max(1, (wait + 999_999) / 1_000_000), () -> {
        scheduled = false;
        maybeRun();
      });
      return;
    }
    pending = false;
    running = true;
    ever = true;
    lastStartNanos = now;
    sync.accept(() -> {
      running = false;
      maybeRun();
    });
  }
}
