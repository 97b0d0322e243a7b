package io.kvx.apiserver;

import io.kvx.api.ApiError;
import io.kvx.api.Conversions;
import io.kvx.api.Meta;
import io.kvx.api.Patches;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.function.Function;

/**
 * Requests to a version served as a view of another stored form ({@link Conversions}): carried out on
 * the stored type, bodies converted on the way in and objects on the way out. A patch applies to the
 * served form: read, convert, patch, convert back, update at the version read.
 */
final class ConvertedRequests {

  private static final int PATCH_RETRIES = 5;

  private ConvertedRequests() {
  }

  static Future<JsonObject> handle(ApiRequest r, Conversions.Conversion c, Function<ApiRequest, Future<JsonObject>> stored) {
    return switch (r.verb()) {
      case "create" -> {
        c.validateCreate().accept(r.body());
        yield stored.apply(on(r, c, r.verb(), c.toStored().apply(r.body()), null)).map(c::present);
      }
      case "update" -> stored.apply(on(r, c, r.verb(), c.toStored().apply(r.body()), null)).map(c::present);
      case "patch" -> patch(r, c, stored, PATCH_RETRIES);
      case "get", "delete" -> stored.apply(on(r, c, r.verb(), r.body(), r.patchType())).map(c::present);
      case "list", "deletecollection" -> stored.apply(on(r, c, r.verb(), r.body(), r.patchType()))
          .map(list -> list.put("apiVersion", r.type().apiVersion()).put("items", new JsonArray(
              list.getJsonArray("items", new JsonArray()).stream().map(o -> c.present((JsonObject) o)).toList())));
      default -> Future.failedFuture(ApiError.methodNotAllowed());
    };
  }

  private static Future<JsonObject> patch(ApiRequest r, Conversions.Conversion c,
                                          Function<ApiRequest, Future<JsonObject>> stored, int left) {
    return stored.apply(on(r, c, "get", null, null)).compose(current -> {
      // a copy: the patch functions change what they are given, and the store's objects are read-only
      JsonObject old = c.present(current.copy());
      // server-side apply approximated by a strategic merge (a converted kind has no keyed lists to merge)
      JsonObject patched = Patches.apply(r.patchType(), old, r.body());
      long sent = Meta.resourceVersion(patched);
      if (sent != 0 && sent != Meta.resourceVersion(old)) {
        throw ApiError.conflict(r.type().group(), r.type().plural(), r.name(),
            "the object has been modified; please apply your changes to the latest version and try again");
      }
      Meta.meta(patched).put("resourceVersion", Meta.meta(old).getString("resourceVersion"));
      return stored.apply(on(r, c, "update", c.toStored().apply(patched), null)).map(c::present).recover(e ->
          left > 0 && sent == 0 && ApiError.is(e, ApiError.Reason.Conflict) ? patch(r, c, stored, left - 1)
              : Future.failedFuture(e));
    });
  }

  private static ApiRequest on(ApiRequest r, Conversions.Conversion c, String verb, JsonObject body, String patchType) {
    return new ApiRequest(verb, c.stored(), r.namespace(), r.name(), r.subresource(), body, patchType, r.query(),
        r.warnings(), r.userAgent(), r.created(), r.user());
  }
}
