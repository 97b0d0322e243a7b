package io.kvx.api;

import io.vertx.core.json.JsonObject;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The JSON text of objects encoded lately, by identity: the store encodes every object it commits once (for the
 * durable log and the change log) and remembers the text here, so that the API server's answer to that write
 * sends the same text instead of encoding the object again. Only for objects nothing changes once remembered
 * (the store's, which are read-only); a slot holds the last object that hashed there, so a miss just encodes.
 */
public final class EncodedJson {

  private static final int SLOTS = 1024;

  private record Entry(JsonObject object, String text) {
  }

  private static final AtomicReferenceArray<Entry> ENTRIES = new AtomicReferenceArray<>(SLOTS);

  private EncodedJson() {
  }

  /** Remembers {@code text} as the encoding of {@code object}, which must not change from now on. */
  public static void remember(JsonObject object, String text) {
    ENTRIES.set(slot(object), new Entry(object, text));
  }

  /** The remembered encoding of this very instance, or null. */
  public static String of(JsonObject object) {
    Entry e = ENTRIES.get(slot(object));
    return e != null && e.object() == object ? e.text() : null;
  }

  private static int slot(JsonObject object) {
    return System.identityHashCode(object) & (SLOTS - 1);
  }
}
