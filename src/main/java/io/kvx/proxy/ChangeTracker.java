package io.kvx.proxy;

import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Collects changes to one kind of object (services or endpoints) between syncs as
 * {previous, current} per service: many events for one service between two syncs collapse into
 * one change, and a change that ends where it started disappears. {@link #apply()} folds the pending
 * changes into the applied state and says which services really changed. Not thread-safe: one
 * context updates and applies.
 */
public final class ChangeTracker<V> {

  private record Change<V>(Map<ServicePortName, V> previous, Map<ServicePortName, V> current, long firstSeenNanos) {
  }

  private final Function<JsonObject, Map<ServicePortName, V>> convert;
  private final Map<String, Map<ServicePortName, V>> applied = new HashMap<>();
  private final Map<String, Change<V>> pending = new LinkedHashMap<>();

  public ChangeTracker(Function<JsonObject, Map<ServicePortName, V>> convert) {
    this.convert = convert;
  }

  public static ChangeTracker<ServicePort> services() {
    return new ChangeTracker<>(ProxyObjects::servicePorts);
  }

  public static ChangeTracker<java.util.List<Endpoint>> endpoints() {
    return new ChangeTracker<>(ProxyObjects::endpoints);
  }

  /**
   * Records the object's new state; {@code object} null means deleted. Returns whether something
   * changed for the proxy (so the caller asks for a sync).
   */
  public boolean update(String service, JsonObject object, long nowNanos) {
    return updateTo(service, convert.apply(object), nowNanos);
  }

  /** Like {@link #update} with the object already converted (empty: nothing to program). */
  public boolean updateTo(String service, Map<ServicePortName, V> current, long nowNanos) {
    Change<V> before = pending.get(service);
    Map<ServicePortName, V> previous = before != null ? before.previous() : applied.getOrDefault(service, Map.of());
    if (Objects.equals(previous, current)) {
      pending.remove(service);
      return before != null;
    }
    if (before != null && before.current().equals(current)) return false;
    pending.put(service, new Change<>(previous, current, before != null ? before.firstSeenNanos() : nowNanos));
    return true;
  }

  /** Whether changes wait for the next sync. */
  public boolean hasPending() {
    return !pending.isEmpty();
  }

  /** When the oldest pending change arrived; Long.MAX_VALUE if none. */
  public long oldestPendingNanos() {
    return pending.values().stream().mapToLong(Change::firstSeenNanos).min().orElse(Long.MAX_VALUE);
  }

  /** Folds pending changes into the applied state; returns the services whose state changed. */
  public Set<String> apply() {
    Set<String> changed = new TreeSet<>();
    pending.forEach((service, change) -> {
      if (change.current().isEmpty()) applied.remove(service);
      else applied.put(service, change.current());
      changed.add(service);
    });
    pending.clear();
    return changed;
  }

  /** The applied state: service → its ports' values. Read-only view. */
  public Map<String, Map<ServicePortName, V>> state() {
    return java.util.Collections.unmodifiableMap(applied);
  }
}
