package io.kvx.store.hazelcast;

import io.kvx.api.ApiError;
import io.kvx.api.Meta;
import io.kvx.store.StoreKeys;
import io.kvx.store.WatchEvent;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * The ordering core of the store: checks a write's preconditions against the current value, assigns
 * the next revision and stamps the metadata that is set once (uid, creationTimestamp) or derived
 * (generation, resourceVersion). Holds the authoritative current state while this JVM leads.
 * Uses Vert.x's JSON types only as data; nothing here does I/O.
 */
public final class Sequencer {

  /**
   * An accepted write: the change to log, in revision order. The object's JSON text is made once
   * and shared by the durable log, the change log record and the objects map.
   */
  public static final class Change {
    private final String key;
    private final String type;
    private final JsonObject object;
    private final long revision;
    private final String epoch;
    private String encoded;

    public Change(String key, String type, JsonObject object, long revision, String epoch) {
      this.key = key;
      this.type = type;
      this.object = object;
      this.revision = revision;
      this.epoch = epoch;
    }

    public String key() {
      return key;
    }

    public String type() {
      return type;
    }

    public JsonObject object() {
      return object;
    }

    public long revision() {
      return revision;
    }

    public String epoch() {
      return epoch;
    }

    /** The object as JSON text (encoded on first use; the object is not changed after commit). */
    public String encoded() {
      String e = encoded;
      if (e == null) encoded = e = object.encode();
      return e;
    }

    /** The change-log record, {@code ts} being the commit time in ms. */
    public String toRecord(long ts) {
      return recordPrefix(ts) + encoded() + "}";
    }

    /** The record's text before the object's: {@link #toRecord} is this, {@link #encoded} and "}". */
    public String recordPrefix(long ts) {
      return "{\"rev\":" + revision + ",\"type\":" + Json.encode(type) + ",\"key\":" + Json.encode(key)
          + ",\"epoch\":" + Json.encode(epoch) + ",\"ts\":" + ts + ",\"object\":";
    }

    public static Change fromRecord(JsonObject r) {
      return new Change(r.getString("key"), r.getString("type"), r.getJsonObject("object"), r.getLong("rev"),
          r.getString("epoch"));
    }

    @Override
    public String toString() {
      return type + " " + key + "@" + revision;
    }
  }

  /** The first record of a term: the last change-log sequence the new leader recovered, and its revision. */
  public static JsonObject marker(String epoch, long afterSequence, long revision) {
    return new JsonObject().put("epoch", epoch).put("after", afterSequence).put("rev", revision);
  }

  public static boolean isMarker(JsonObject record) {
    return record.containsKey("after");
  }

  /**
   * Starts a new leadership term. Revisions jump past {@code inFlightLimit}: a dying leader may have
   * logged (but never acknowledged) up to one batch that readers saw, and no revision a client saw
   * may ever be reused. Records carry the term so that readers notice the change and re-list.
   */
  public void beginEpoch(String id, int inFlightLimit) {
    epoch = id;
    revision += inFlightLimit;
  }

  private final Map<String, JsonObject> current = new HashMap<>();
  private long revision;
  private String epoch = "";

  public long revision() {
    return revision;
  }

  public int size() {
    return current.size();
  }

  public Map<String, JsonObject> snapshot() {
    return Map.copyOf(current);
  }

  /** Loads recovered state (from IMap backups, the change log, or the durable file). */
  public void restore(Map<String, JsonObject> objects, long lastRevision) {
    current.clear();
    current.putAll(objects);
    revision = lastRevision;
    for (JsonObject o : objects.values()) revision = Math.max(revision, Meta.resourceVersion(o));
  }

  /** Raises the revision to at least {@code rev} (a revision kept apart from the objects). */
  public void advanceTo(long rev) {
    revision = Math.max(revision, rev);
  }

  /** Replays a logged change during recovery if it is newer than what is known for its key. */
  public void replay(Change c) {
    JsonObject cur = current.get(c.key());
    if (cur == null || Meta.resourceVersion(cur) < c.revision()) {
      if (c.type().equals(WatchEvent.DELETED)) current.remove(c.key());
      else current.put(c.key(), c.object());
    }
    revision = Math.max(revision, c.revision());
  }

  /** Whether writes to this key keep metadata.generation (1 at creation, +1 per spec change). */
  static boolean tracksGeneration(String key) {
    return io.kvx.store.StoreKeys.tracksGeneration(key);
  }

  public Change create(String key, JsonObject object, String now) {
    if (current.containsKey(key)) {
      throw ApiError.alreadyExists(StoreKeys.group(key), StoreKeys.resource(key), StoreKeys.name(key));
    }
    JsonObject obj = ownTopAndMetadata(object);
    JsonObject meta = Meta.meta(obj);
    if (meta.getString("uid") == null) meta.put("uid", UUID.randomUUID().toString());
    meta.put("creationTimestamp", now);
    if (tracksGeneration(key)) meta.put("generation", 1);
    else meta.remove("generation");
    return commit(key, WatchEvent.ADDED, obj);
  }

  public Change update(String key, JsonObject object, long expectedRevision) {
    JsonObject old = current.get(key);
    if (old == null) throw ApiError.notFound(StoreKeys.group(key), StoreKeys.resource(key), StoreKeys.name(key));
    checkRevision(key, old, expectedRevision);
    JsonObject obj = ownTopAndMetadata(object);
    JsonObject meta = Meta.meta(obj);
    JsonObject oldMeta = Meta.meta(old);
    meta.put("uid", oldMeta.getString("uid"));
    meta.put("creationTimestamp", oldMeta.getString("creationTimestamp"));
    if (tracksGeneration(key)) {
      meta.put("generation", io.kvx.store.StoreKeys.nextGeneration(key, old, obj));
    } else {
      meta.remove("generation");
    }
    return commit(key, WatchEvent.MODIFIED, obj);
  }

  public Change delete(String key, long expectedRevision, String expectedUid) {
    JsonObject old = current.get(key);
    if (old == null) throw ApiError.notFound(StoreKeys.group(key), StoreKeys.resource(key), StoreKeys.name(key));
    checkRevision(key, old, expectedRevision);
    if (expectedUid != null && !expectedUid.equals(Meta.uid(old))) {
      throw ApiError.conflict(StoreKeys.group(key), StoreKeys.resource(key), StoreKeys.name(key),
          "Precondition failed: UID in precondition: " + expectedUid + ", UID in object meta: " + Meta.uid(old));
    }
    current.remove(key);
    revision++;
    JsonObject last = ownTopAndMetadata(old);
    Meta.meta(last).put("resourceVersion", String.valueOf(revision));
    return new Change(key, WatchEvent.DELETED, last, revision, epoch);
  }

  private void checkRevision(String key, JsonObject old, long expectedRevision) {
    if (expectedRevision != 0 && Meta.resourceVersion(old) != expectedRevision) {
      throw ApiError.conflict(StoreKeys.group(key), StoreKeys.resource(key), StoreKeys.name(key),
          "the object has been modified; please apply your changes to the latest version and try again");
    }
  }

  /**
   * The object with a top level and metadata of its own, the only parts the sequencer writes; everything
   * else is shared with what it was handed, which neither the caller nor the store changes after (Store).
   * A deep copy of every object written was ~5% of a busy API server's CPU.
   */
  @SuppressWarnings("unchecked")
  static JsonObject ownTopAndMetadata(JsonObject object) {
    Map<String, Object> top = new java.util.LinkedHashMap<>(object.getMap());
    Object meta = top.get("metadata");
    if (meta instanceof JsonObject m) {
      top.put("metadata", new JsonObject(new java.util.LinkedHashMap<>(m.getMap())));
    } else if (meta instanceof Map<?, ?> m) {
      top.put("metadata", new JsonObject(new java.util.LinkedHashMap<>((Map<String, Object>) m)));
    }
    return new JsonObject(top);
  }

  private Change commit(String key, String type, JsonObject obj) {
    revision++;
    Meta.meta(obj).put("resourceVersion", String.valueOf(revision));
    current.put(key, obj);
    return new Change(key, type, obj, revision, epoch);
  }
}
