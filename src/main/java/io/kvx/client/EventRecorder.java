package io.kvx.client;

import io.kvx.api.Meta;
import io.kvx.api.Resources;
import io.vertx.core.json.JsonObject;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.logging.Logger;

/**
 * Records core/v1 Events about an object, as client-go's recorder does, so that `kubectl describe`
 * shows them. Fire and forget: a lost event is not worth failing a reconcile for. As in Kubernetes,
 * events are best effort under load: the recorders of one client share a queue of
 * {@value #QUEUE} events drained at {@value #QPS} events/s with bursts of {@value #BURST} (the
 * kubelet's --event-qps/--event-burst and kube-scheduler's client defaults); when the queue is full a
 * new event is dropped, as client-go's broadcaster drops it, so a burst of scheduling or pod creation
 * never waits on its events.
 */
public final class EventRecorder {

  private static final Logger LOG = Logger.getLogger(EventRecorder.class.getName());
  static final int QPS = 50;
  static final int BURST = 100;
  static final int QUEUE = 1000;
  /** How many distinct events a client remembers to count repeats of, and for how long (client-go's). */
  static final int SEEN = 4096;
  static final long REPEAT_WINDOW_NANOS = 600_000_000_000L;
  private static final long DRAIN_MS = 1000 / QPS;
  private static final Map<ApiClient, Sink> SINKS = Collections.synchronizedMap(new WeakHashMap<>());

  private final ApiClient client;
  private final String component;
  /** The node a kubelet's events come from (source.host, reportingInstance), or null. */
  private final String host;
  private final Sink sink;

  public EventRecorder(ApiClient client, String component) {
    this(client, component, null);
  }

  public EventRecorder(ApiClient client, String component, String host) {
    this.client = client;
    this.component = component;
    this.host = host;
    this.sink = SINKS.computeIfAbsent(client, c -> new Sink(ev -> send(c, ev), System::nanoTime,
        (ms, task) -> c.vertx().setTimer(ms, t -> task.run())));
  }

  public void normal(JsonObject about, String reason, String message) {
    record(about, "Normal", reason, message);
  }

  public void warning(JsonObject about, String reason, String message) {
    record(about, "Warning", reason, message);
  }

  public void record(JsonObject about, String type, String reason, String message) {
    record(about, null, type, reason, message);
  }

  /**
   * An event about part of an object: {@code fieldPath} names it as Kubernetes does (a pod's container is
   * {@code spec.containers{name}}), shown as the event's Subobject.
   */
  public void record(JsonObject about, String fieldPath, String type, String reason, String message) {
    String now = Meta.nowMicro();
    String ns = Meta.namespace(about);
    String namespace = ns == null || ns.isEmpty() ? "default" : ns;
    JsonObject involved = new JsonObject().put("kind", about.getString("kind"))
        .put("apiVersion", about.getString("apiVersion")).put("name", Meta.name(about)).put("uid", Meta.uid(about));
    String rv = Meta.meta(about).getString("resourceVersion");
    if (rv != null) involved.put("resourceVersion", rv);
    if (ns != null && !ns.isEmpty()) involved.put("namespace", ns);
    if (fieldPath != null) involved.put("fieldPath", fieldPath);
    JsonObject ev = new JsonObject()
        .put("metadata", new JsonObject().put("name", eventName(Meta.name(about), unixNanos()))
            .put("namespace", namespace))
        .put("involvedObject", involved).put("reason", reason).put("message", message).put("type", type)
        .put("source", host == null ? new JsonObject().put("component", component)
            : new JsonObject().put("component", component).put("host", host)).put("reportingComponent", component)
        .put("firstTimestamp", Meta.now()).put("lastTimestamp", Meta.now()).put("eventTime", now).put("count", 1)
        .put("reportingInstance", host == null ? component : host).put("action", reason);
    sink.offer(ev);
  }

  /**
   * Writes an event: a first one is created; a repeat (count above 1) updates the count and last timestamp of the
   * one it repeats, as client-go's correlator patches it, or is created when that one is gone (expired).
   */
  private static void send(ApiClient c, JsonObject ev) {
    String ns = ev.getJsonObject("metadata").getString("namespace");
    if (ev.getInteger("count", 1) <= 1) {
      c.create(Resources.EVENTS, ns, ev);
      return;
    }
    JsonObject patch = new JsonObject().put("count", ev.getInteger("count"))
        .put("lastTimestamp", ev.getString("lastTimestamp")).put("message", ev.getString("message"));
    c.mergePatch(Resources.EVENTS, ns, ev.getJsonObject("metadata").getString("name"), null, patch)
        .onFailure(e -> c.create(Resources.EVENTS, ns, ev));
  }

  private static final java.util.concurrent.atomic.AtomicLong LAST_NANOS = new java.util.concurrent.atomic.AtomicLong();

  /**
   * As client-go's recorder names events: the object's name, a dot and the time in hexadecimal
   * nanoseconds, so events list (by name) in the order they happened; a later one never takes an
   * earlier one's number in this JVM.
   */
  private static long unixNanos() {
    java.time.Instant t = java.time.Instant.now();
    return t.getEpochSecond() * 1_000_000_000L + t.getNano();
  }

  static String eventName(String objectName, long unixNanos) {
    long n = LAST_NANOS.updateAndGet(last -> Math.max(last + 1, unixNanos));
    return objectName + "." + Long.toHexString(n);
  }

  /** One client's event queue and token bucket. Pure: sending, the clock and timers are handed in. */
  static final class Sink {
    private final java.util.function.Consumer<JsonObject> send;
    private final java.util.function.LongSupplier nanos;
    private final java.util.function.BiConsumer<Long, Runnable> timer;
    private final ArrayDeque<JsonObject> queue = new ArrayDeque<>();
    private double tokens = BURST;
    private long lastRefill;
    private boolean draining;
    private long dropped;

    Sink(java.util.function.Consumer<JsonObject> send, java.util.function.LongSupplier nanos,
         java.util.function.BiConsumer<Long, Runnable> timer) {
      this.send = send;
      this.nanos = nanos;
      this.timer = timer;
      this.lastRefill = nanos.getAsLong();
    }

    /** Events sent in the last ten minutes by what makes them the same (client-go's EventLogger cache). */
    private final Map<String, JsonObject> seen = new java.util.LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, JsonObject> eldest) {
        return size() > SEEN;
      }
    };

    /**
     * A repeat of an event sent in the last ten minutes (same source, object, type, reason and message) becomes
     * that event with its count up and a new last timestamp, as `kubectl describe` shows it ("x3 over 63s").
     */
    private void correlate(JsonObject ev) {
      JsonObject involved = ev.getJsonObject("involvedObject", new JsonObject()).copy();
      involved.remove("resourceVersion");
      String key = String.join("\u0000", String.valueOf(ev.getValue("source")), involved.encode(),
          String.valueOf(ev.getValue("type")), String.valueOf(ev.getValue("reason")), String.valueOf(ev.getValue("message")));
      long now = nanos.getAsLong();
      JsonObject prior = seen.get(key);
      if (prior != null && now - prior.getLong("at") < REPEAT_WINDOW_NANOS) {
        int count = prior.getInteger("count") + 1;
        ev.getJsonObject("metadata").put("name", prior.getString("name"));
        ev.put("count", count).put("firstTimestamp", prior.getString("first"));
        prior.put("count", count).put("at", now);
        return;
      }
      seen.put(key, new JsonObject().put("name", ev.getJsonObject("metadata").getString("name")).put("count", 1)
          .put("first", ev.getString("firstTimestamp")).put("at", now));
    }

    synchronized void offer(JsonObject ev) {
      correlate(ev);
      refill();
      if (queue.isEmpty() && tokens >= 1) {
        tokens--;
        send(ev);
        return;
      }
      if (queue.size() >= QUEUE) {
        if (dropped++ % 1000 == 0) LOG.fine("events: queue full, dropping (" + dropped + " so far)");
        return;
      }
      queue.add(ev);
      if (!draining) {
        draining = true;
        timer.accept(DRAIN_MS, this::drain);
      }
    }

    synchronized void drain() {
      refill();
      while (tokens >= 1 && !queue.isEmpty()) {
        tokens--;
        send(queue.poll());
      }
      if (queue.isEmpty()) {
        draining = false;
      } else {
        timer.accept(DRAIN_MS, this::drain);
      }
    }

    private void refill() {
      long now = nanos.getAsLong();
      tokens = Math.min(BURST, tokens + (now - lastRefill) / 1e9 * QPS);
      lastRefill = now;
    }

    private void send(JsonObject ev) {
      send.accept(ev);
    }

    synchronized int queued() {
      return queue.size();
    }

    synchronized long dropped() {
      return dropped;
    }
  }
}
