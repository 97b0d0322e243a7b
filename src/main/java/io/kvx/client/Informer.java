package io.kvx.client;

import io.kvx.api.Meta;
import io.kvx.api.ResourceType;
import io.kvx.store.Store;
import io.kvx.store.Watch;
import io.kvx.store.WatchEvent;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * List+watch that never ends: when the store expires a watch (410, e.g. after a JVM was lost and the
 * cache re-listed), it lists again and turns the difference into events, so a handler sees one
 * consistent stream of ADDED / MODIFIED / DELETED, as client-go's reflector gives.
 */
public final class Informer {

  private final Vertx vertx;
  private final Store store;
  private final ResourceType type;
  private final Predicate<JsonObject> filter;
  private final Handler<WatchEvent> handler;
  private final Map<String, JsonObject> known = new HashMap<>();
  private Context context;
  private Watch watch;
  private Set<String> relisting;
  private boolean stopped;

  public Informer(Vertx vertx, Store store, ResourceType type, Predicate<JsonObject> filter,
                  Handler<WatchEvent> handler) {
    this.vertx = vertx;
    this.store = store;
    this.type = type;
    this.filter = filter;
    this.handler = handler;
  }

  public Future<Informer> start() {
    context = vertx.getOrCreateContext();
    return subscribe().map(this);
  }

  public void stop() {
    stopped = true;
    if (watch != null) watch.close();
  }

  private Future<Void> subscribe() {
    return store.watch(type.storePrefix(), 0, true, filter, this::onEvent).map(w -> {
      watch = w;
      // Initial events were queued on this context before the watch completed: they have all run.
      context.runOnContext(v -> finishRelist());
      return null;
    });
  }

  private void onEvent(WatchEvent ev) {
    if (stopped) return;
    if (ev.type().equals("ERROR")) {
      relisting = new HashSet<>();
      vertx.setTimer(200, t -> resubscribe());
      return;
    }
    String key = Meta.namespace(ev.object()) + "/" + Meta.name(ev.object());
    if (relisting != null) relisting.add(key);
    if (ev.type().equals(WatchEvent.DELETED)) {
      if (known.remove(key) == null) return;
      handler.handle(ev);
      return;
    }
    JsonObject before = known.put(key, ev.object());
    if (before != null && Meta.resourceVersion(before) == Meta.resourceVersion(ev.object())) return;
    String t = before == null ? WatchEvent.ADDED : WatchEvent.MODIFIED;
    handler.handle(new WatchEvent(t, ev.object(), ev.revision()));
  }

  private void resubscribe() {
    if (stopped) return;
    subscribe().onFailure(e -> vertx.setTimer(1000, t -> resubscribe()));
  }

  private void finishRelist() {
    if (relisting == null) return;
    Set<String> seen = relisting;
    relisting = null;
    for (String key : Set.copyOf(known.keySet())) {
      if (!seen.contains(key)) {
        JsonObject gone = known.remove(key);
        handler.handle(new WatchEvent(WatchEvent.DELETED, gone, store.revision()));
      }
    }
  }
}
