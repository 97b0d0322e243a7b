package io.kvx.store;

import io.vertx.core.json.JsonObject;

/** One change as a watcher sees it: ADDED, MODIFIED, DELETED (or BOOKMARK), with the object's revision. */
public record WatchEvent(String type, JsonObject object, long revision) {

  public static final String ADDED = "ADDED";
  public static final String MODIFIED = "MODIFIED";
  public static final String DELETED = "DELETED";
  public static final String BOOKMARK = "BOOKMARK";

  public JsonObject toJson() {
    return new JsonObject().put("type", type).put("object", object);
  }
}
