package io.kvx.apiserver;

import io.kvx.api.ApiError;
import io.kvx.api.OpenApi;
import io.kvx.api.ResourceType;
import io.kvx.api.Resources;
import io.kvx.api.SwaggerV2Proto;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.List;
import java.util.concurrent.Callable;

/**
 * GET /openapi/v3, /openapi/v3/{api/v1|apis/G/V} and /openapi/v2. Documents are rebuilt (on a worker)
 * when the served types change; replies carry an ETag, and a URL whose {@code hash} is current may be
 * cached for good, as kube-apiserver allows. v2 is also served as gnostic protobuf, which is what
 * client-go asks for; v3 only as JSON (protobuf-only requests get 406).
 */
public final class OpenApiRoutes {

  private static final String IMMUTABLE = "public, immutable";
  private static final String REVALIDATE = "no-cache, private";

  private final Vertx vertx;
  private final Resources resources;
  /** Shared by the JVM's API server instances: the documents depend only on the served types. */
  private static List<ResourceType> snapshot;
  private static OpenApi current;

  public OpenApiRoutes(Vertx vertx, Resources resources) {
    this.vertx = vertx;
    this.resources = resources;
  }

  public void mount(Router router) {
    router.get(OpenApi.V3).handler(ctx -> reply(ctx, () -> docs().root(), false));
    router.get(OpenApi.V3 + "/*").handler(this::groupVersion);
    router.get("/openapi/v2").handler(this::v2);
  }

  /** The documents of the registry as it is now (compared by value: CRDs come and go). */
  private OpenApi docs() {
    List<ResourceType> now = resources.all();
    synchronized (OpenApiRoutes.class) {
      if (current == null || !now.equals(snapshot)) {
        snapshot = now;
        current = new OpenApi(now, Reviews.TYPES);
      }
      return current;
    }
  }

  private void v2(RoutingContext ctx) {
    String accept = ctx.request().getHeader(HttpHeaders.ACCEPT);
    if (accept == null || !accept.contains("protobuf") || accept.contains("json")) {
      reply(ctx, () -> docs().v2(), false);
      return;
    }
    OpenApi docs = docs();
    vertx.executeBlocking(() -> {
      docs.v2Protobuf();
      return docs;
    }).onComplete(ar -> {
      if (ar.failed()) {
        HttpApi.fail(ctx, ar.cause());
        return;
      }
      String etag = "\"" + ar.result().v2().hash() + "\"";
      ctx.response().putHeader(HttpHeaders.ETAG, etag).putHeader(HttpHeaders.CACHE_CONTROL, REVALIDATE)
          .putHeader(HttpHeaders.VARY, HttpHeaders.ACCEPT);
      if (etag.equals(ctx.request().getHeader(HttpHeaders.IF_NONE_MATCH))) {
        ctx.response().setStatusCode(304).end();
        return;
      }
      // Go's mime parser rejects the '@' of the protobuf media type: kube-apiserver labels it octet-stream.
      ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/octet-stream")
          .end(io.vertx.core.buffer.Buffer.buffer(ar.result().v2Protobuf()));
    });
  }

  private void groupVersion(RoutingContext ctx) {
    String path = ctx.normalizedPath().substring(OpenApi.V3.length() + 1);
    if (path.endsWith("/")) path = path.substring(0, path.length() - 1);
    String gv = path;
    String asked = ctx.request().getParam("hash");
    OpenApi docs = docs();
    reply(ctx, () -> {
      OpenApi.Document doc = docs.v3(gv);
      if (doc == null) throw new ApiError(ApiError.Reason.NotFound, "the server could not find the requested resource");
      return doc;
    }, asked != null);
  }

  private void reply(RoutingContext ctx, Callable<OpenApi.Document> build, boolean hashed) {
    String accept = ctx.request().getHeader(HttpHeaders.ACCEPT);
    if (accept != null && !accept.contains("json") && !accept.contains("*/*")) {
      HttpApi.fail(ctx, new ApiError(ApiError.Reason.NotAcceptable, "only application/json is served here"));
      return;
    }
    String asked = ctx.request().getParam("hash");
    vertx.executeBlocking(build).onComplete(ar -> {
      if (ar.failed()) {
        HttpApi.fail(ctx, ar.cause());
        return;
      }
      OpenApi.Document doc = ar.result();
      if (hashed && !doc.hash().equals(asked)) {
        // An old hash: send the client to the current document, as kube-apiserver does.
        ctx.response().setStatusCode(301).putHeader(HttpHeaders.LOCATION, ctx.normalizedPath() + "?hash="
            + doc.hash()).putHeader(HttpHeaders.CACHE_CONTROL, REVALIDATE).end();
        return;
      }
      String etag = "\"" + doc.hash() + "\"";
      ctx.response().putHeader(HttpHeaders.ETAG, etag)
          .putHeader(HttpHeaders.CACHE_CONTROL, hashed ? IMMUTABLE : REVALIDATE)
          .putHeader(HttpHeaders.VARY, HttpHeaders.ACCEPT);
      if (hashed) ctx.response().putHeader(HttpHeaders.EXPIRES, "Thu, 31 Dec 2099 00:00:00 GMT");
      String match = ctx.request().getHeader(HttpHeaders.IF_NONE_MATCH);
      if (match != null && (match.equals(etag) || match.equals(doc.hash()))) {
        ctx.response().setStatusCode(304).end();
        return;
      }
      ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(doc.text());
    });
  }
}
