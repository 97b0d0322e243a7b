package io.kvx.controller;

import io.kvx.api.Meta;
import io.kvx.api.ResourceType;
import io.kvx.client.ApiClient;
import io.kvx.client.Informer;
import io.kvx.store.WatchEvent;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A shared informer's lister: the current objects of one type by "namespace/name", kept by one
 * list+watch, with listeners that see every change (old and new) after the cache has applied it.
 */
public final class Cache {

  /** A change: {@code old} is null on add, {@code current} is null on delete. */
  public record Change(JsonObject old, JsonObject current) {
    public JsonObject object() {
      return current != null ? current : old;
    }
  }

  private final ResourceType type;
  private final Map<String, JsonObject> objects = new HashMap<>();
  private final List<Handler<Change>> listeners = new CopyOnWriteArrayList<>();
  private Informer informer;

  public Cache(ResourceType type) {
    this.type = type;
  }

  public ResourceType type() {
    return type;
  }

  public Future<Cache> start(ApiClient client) {
    return client.watch(type, o -> true, this::onEvent).map(i -> {
      informer = i;
      return this;
    });
  }

  public void stop() {
    if (informer != null) informer.stop();
  }

  public void listen(Handler<Change> listener) {
    listeners.add(listener);
  }

  public static String key(JsonObject obj) {
    String ns = Meta.namespace(obj);
    return ns == null || ns.isEmpty() ? Meta.name(obj) : ns + "/" + Meta.name(obj);
  }

  public JsonObject get(String key) {
    return objects.get(key);
  }

  public JsonObject get(String namespace, String name) {
    return objects.get(namespace == null || namespace.isEmpty() ? name : namespace + "/" + name);
  }

  public List<JsonObject> list(String namespace) {
    List<JsonObject> out = new ArrayList<>();
    for (JsonObject o : objects.values()) {
      if (namespace == null || namespace.equals(Meta.namespace(o))) out.add(o);
    }
    return out;
  }

  public List<JsonObject> all() {
    return new ArrayList<>(objects.values());
  }

  private void onEvent(WatchEvent ev) {
    String key = key(ev.object());
    JsonObject old;
    JsonObject current;
    if (ev.type().equals(WatchEvent.DELETED)) {
      old = objects.remove(key);
      current = null;
      if (old == null) old = ev.object();
    } else {
      current = ev.object();
      old = objects.put(key, current);
    }
    Change change = new Change(old == current ? null : old, current);
    for (Handler<Change> l : listeners) l.handle(change);
  }
}
