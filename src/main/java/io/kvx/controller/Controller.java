package io.kvx.controller;

import io.kvx.api.ApiError;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.HashMap;
import java.util.Map;
import java.util.logging.Logger;

/**
 * Runs one {@link Reconciler} off its {@link WorkQueue}: up to {@code workers} keys at once, never
 * the same key twice at once; a failure (or a conflict) backs off and retries, a result may ask to
 * run again later. Exposes workqueue_depth and workqueue_adds_total with the controller's name.
 */
public final class Controller {

  private static final Logger LOG = Logger.getLogger(Controller.class.getName());

  private final Vertx vertx;
  private final Reconciler reconciler;
  private final int workers;
  private final WorkQueue queue = new WorkQueue();
  private final Map<String, Long> timers = new HashMap<>();
  private int running;
  private boolean stopped;
  /** Keys queue up until the caches have synced; only then do workers run. */
  private boolean started;

  public Controller(Vertx vertx, Reconciler reconciler, int workers, MeterRegistry meters) {
    this.vertx = vertx;
    this.reconciler = reconciler;
    this.workers = workers;
    Gauge.builder("workqueue_depth", queue, WorkQueue::depth).tag("name", reconciler.name()).register(meters);
    io.micrometer.core.instrument.FunctionCounter.builder("workqueue_adds_total", queue, WorkQueue::adds)
        .tag("name", reconciler.name()).register(meters);
  }

  public String name() {
    return reconciler.name();
  }

  public void enqueue(String key) {
    if (stopped || key == null) return;
    queue.add(key);
    pump();
  }

  public void enqueueAfter(String key, long delayMs) {
    if (stopped) return;
    if (delayMs <= 0) {
      enqueue(key);
      return;
    }
    Long old = timers.remove(key);
    if (old != null) vertx.cancelTimer(old);
    timers.put(key, vertx.setTimer(delayMs, t -> {
      timers.remove(key);
      enqueue(key);
    }));
  }

  /** Caches are synced: start working off the queue. */
  public void run() {
    started = true;
    pump();
  }

  public void stop() {
    stopped = true;
    timers.values().forEach(vertx::cancelTimer);
    timers.clear();
  }

  /** True while {@link #pump} runs: a reconcile that completes at once must not recurse into it. */
  private boolean pumping;
  private boolean pumpAgain;

  private void pump() {
    if (pumping) {
      pumpAgain = true;
      return;
    }
    pumping = true;
    try {
      do {
        pumpAgain = false;
        pumpOnce();
      } while (pumpAgain);
    } finally {
      pumping = false;
    }
  }

  private void pumpOnce() {
    while (started && !stopped && running < workers) {
      String key = queue.take();
      if (key == null) return;
      running++;
      Future<Reconciler.Result> result;
      try {
        result = reconciler.reconcile(key);
      } catch (RuntimeException e) {
        result = Future.failedFuture(e);
      }
      result.onComplete(ar -> {
        running--;
        queue.done(key);
        if (ar.succeeded()) {
          queue.forget(key);
          if (ar.result() != null && ar.result().requeueAfterMs() > 0) enqueueAfter(key, ar.result().requeueAfterMs());
        } else {
          long delay = queue.failed(key);
          Throwable e = ar.cause();
          if (!ApiError.is(e, ApiError.Reason.Conflict) && !ApiError.is(e, ApiError.Reason.AlreadyExists)) {
            LOG.info(reconciler.name() + ": " + key + ": " + e.getMessage() + " (retry in " + delay + " ms)");
          }
          enqueueAfter(key, delay);
        }
        pump();
      });
    }
  }
}
