package io.kvx.store;

import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * A consistent page of objects at one revision. {@code continueAfter} is the last key returned when
 * more items remain (null otherwise); {@code remaining} counts the items after this page.
 */
public record ListResult(List<JsonObject> items, long revision, String continueAfter, long remaining) {
}
