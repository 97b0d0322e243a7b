package io.kvx.api;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * The one typed failure of kvx. Core code throws or fails futures with it; the API server turns it
 * into a Kubernetes {@code Status} in exactly one place ({@link #toStatus()}).
 */
public final class ApiError extends RuntimeException {

  /** Kubernetes StatusReason values with their HTTP codes. */
  public enum Reason {
    BadRequest(400), Unauthorized(401), Forbidden(403), NotFound(404), MethodNotAllowed(405),
    NotAcceptable(406), AlreadyExists(409), Conflict(409), Gone(410), Expired(410),
    RequestEntityTooLarge(413), UnsupportedMediaType(415), Invalid(422), TooManyRequests(429),
    InternalError(500), ServiceUnavailable(503), Timeout(504);

    public final int code;

    Reason(int code) {
      this.code = code;
    }
  }

  /** One cause of an Invalid error: the field path, a Kubernetes CauseType and a message. */
  public record Cause(String field, String type, String message) {
    JsonObject toJson() {
      JsonObject out = new JsonObject();
      if (type != null) out.put("reason", type);
      out.put("message", message);
      return field == null ? out : out.put("field", field);
    }
  }

  private final Reason reason;
  private final String group;
  private final String kind;
  private final String name;
  private final List<Cause> causes;
  /** The Status's metadata.continue (an expired list's token to go on inconsistently), or null. */
  private final String continueToken;
  /** The Status's details.retryAfterSeconds, or 0. */
  private final int retryAfterSeconds;
  /** A code and reason given as they are (an admission webhook's denial), or 0 and null: the reason's own. */
  private int givenCode;
  private String givenReason;

  public ApiError(Reason reason, String message, String group, String kind, String name, List<Cause> causes) {
    this(reason, message, group, kind, name, causes, null, 0);
  }

  private ApiError(Reason reason, String message, String group, String kind, String name, List<Cause> causes,
                   String continueToken, int retryAfterSeconds) {
    super(message, null, false, false);
    this.reason = reason;
    this.group = group;
    this.kind = kind;
    this.name = name;
    this.causes = causes == null ? List.of() : List.copyOf(causes);
    this.continueToken = continueToken;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public ApiError(Reason reason, String message) {
    this(reason, message, null, null, null, null);
  }

  public Reason reason() {
    return reason;
  }

  public int code() {
    return givenCode > 0 ? givenCode : reason.code;
  }

  /**
   * An error with the code and reason someone else chose (an admission webhook's Status): code at least 400, the
   * reason as given, even empty or not one of kube's. Its {@link #reason()} is the nearest of kube's by code.
   */
  public static ApiError given(int code, String reason, String message) {
    return given(code, reason, message, null);
  }

  /** As {@link #given(int, String, String)}, with the Status's details (name, group, kind, causes) kept. */
  public static ApiError given(int code, String reason, String message, JsonObject details) {
    int c = Math.max(code, 400);
    Reason nearest = null;
    for (Reason r : Reason.values()) {
      if (r.name().equals(reason) && r.code == c) nearest = r;
    }
    if (nearest == null) {
      for (Reason r : Reason.values()) {
        if (r.code == c) {
          nearest = r;
          break;
        }
      }
    }
    if (nearest == null) nearest = c >= 500 ? Reason.InternalError : Reason.BadRequest;
    JsonObject d = details == null ? new JsonObject() : details;
    List<Cause> causes = new ArrayList<>();
    for (Object o : d.getJsonArray("causes", new JsonArray())) {
      if (o instanceof JsonObject c2) causes.add(new Cause(c2.getString("field"), c2.getString("reason"), c2.getString("message")));
    }
    ApiError e = new ApiError(nearest, message, d.getString("group"), d.getString("kind"), d.getString("name"), causes);
    e.givenCode = c;
    e.givenReason = reason == null ? "" : reason;
    return e;
  }

  public List<Cause> causes() {
    return causes;
  }

  public int retryAfterSeconds() {
    return retryAfterSeconds;
  }

  public static ApiError notFound(String group, String resource, String name) {
    return new ApiError(Reason.NotFound, qualified(group, resource) + " \"" + name + "\" not found",
        group, resource, name, null);
  }

  public static ApiError alreadyExists(String group, String resource, String name) {
    return new ApiError(Reason.AlreadyExists, qualified(group, resource) + " \"" + name + "\" already exists",
        group, resource, name, null);
  }

  public static ApiError conflict(String group, String resource, String name, String why) {
    return new ApiError(Reason.Conflict, "Operation cannot be fulfilled on " + qualified(group, resource)
        + " \"" + name + "\": " + why, group, resource, name, null);
  }

  public static ApiError gone(String message) {
    return new ApiError(Reason.Expired, message);
  }

  /** This error with a continue token in its Status's metadata (kube's answer to an expired continue). */
  public ApiError withContinue(String token) {
    return new ApiError(reason, getMessage(), group, kind, name, causes, token, retryAfterSeconds);
  }

  /**
   * kube's 504 for a read at a resourceVersion the store has not reached: "Timeout: Too large resource version:
   * R, current: C", cause ResourceVersionTooLarge, retry after a second.
   */
  public static ApiError tooLargeResourceVersion(long requested, long current) {
    return new ApiError(Reason.Timeout, "Timeout: Too large resource version: " + requested + ", current: " + current,
        null, null, null, List.of(new Cause(null, "ResourceVersionTooLarge", "Too large resource version")), null, 1);
  }

  /** kube-apiserver's 405 for a verb the resource does not serve. */
  public static ApiError methodNotAllowed() {
    return new ApiError(Reason.MethodNotAllowed, "the server does not allow this method on the requested resource");
  }

  public static ApiError badRequest(String message) {
    return new ApiError(Reason.BadRequest, message);
  }

  /** A 422 whose message lists every cause, as Kubernetes formats it. */
  public static ApiError invalid(String group, String kind, String name, List<Cause> causes) {
    List<String> parts = new ArrayList<>();
    for (Cause c : causes) {
      parts.add(c.field() + ": " + c.message());
    }
    String msg = qualified(group, kind) + " \"" + (name == null ? "" : name) + "\" is invalid: "
        + (parts.size() == 1 ? parts.get(0) : "[" + String.join(", ", parts) + "]");
    return new ApiError(Reason.Invalid, msg, group, kind, name, causes);
  }

  private static String qualified(String group, String resource) {
    return group == null || group.isEmpty() ? resource : resource + "." + group;
  }

  /** Builds the Kubernetes Status object for this error. */
  public JsonObject toStatus() {
    JsonObject details = new JsonObject();
    if (name != null) details.put("name", name);
    if (group != null && !group.isEmpty()) details.put("group", group);
    if (kind != null) details.put("kind", kind);
    if (!causes.isEmpty()) {
      JsonArray arr = new JsonArray();
      causes.forEach(c -> arr.add(c.toJson()));
      details.put("causes", arr);
    }
    JsonObject status = new JsonObject()
        .put("kind", "Status").put("apiVersion", "v1").put("metadata", new JsonObject())
        .put("status", "Failure").put("message", getMessage());
    String shownReason = givenReason != null ? givenReason : reason.name();
    if (!shownReason.isEmpty()) status.put("reason", shownReason);
    status.put("code", code());
    if (retryAfterSeconds > 0) details.put("retryAfterSeconds", retryAfterSeconds);
    if (!details.isEmpty()) status.put("details", details);
    if (continueToken != null) status.getJsonObject("metadata").put("continue", continueToken);
    return status;
  }

  /** Whether {@code t} is an ApiError with one of these reasons. */
  /**
   * For {@code Future.recover}: failures with these reasons count as done (a null result), any other
   * failure stays one. A controller deleting what is already gone, or creating what exists, uses it.
   */
  public static <T> java.util.function.Function<Throwable, io.vertx.core.Future<T>> ignoring(Reason... reasons) {
    return e -> is(e, reasons) ? io.vertx.core.Future.succeededFuture() : io.vertx.core.Future.failedFuture(e);
  }

  public static boolean is(Throwable t, Reason... reasons) {
    if (!(t instanceof ApiError e)) return false;
    for (Reason r : reasons) {
      if (e.reason == r) return true;
    }
    return false;
  }

  /**
   * The ApiError a bus reply failure carries (the replier failed the message with a Status as its
   * text), or null when the failure is the bus's own (no handler, timeout).
   */
  public static ApiError fromReplyFailure(Throwable t) {
    if (t instanceof io.vertx.core.eventbus.ReplyException re
        && re.failureType() == io.vertx.core.eventbus.ReplyFailure.RECIPIENT_FAILURE
        && re.getMessage() != null && re.getMessage().startsWith("{")) {
      return fromStatus(new JsonObject(re.getMessage()));
    }
    return null;
  }

  /** Rebuilds an error from a Status object (as carried over the event bus). */
  public static ApiError fromStatus(JsonObject status) {
    Reason reason;
    try {
      reason = Reason.valueOf(status.getString("reason", "InternalError"));
    } catch (IllegalArgumentException e) {
      return given(status.getInteger("code", 500), status.getString("reason", ""), status.getString("message", ""),
          status.getJsonObject("details"));
    }
    if (reason.code != status.getInteger("code", reason.code)) {
      return given(status.getInteger("code"), reason.name(), status.getString("message", ""),
          status.getJsonObject("details"));
    }
    JsonObject details = status.getJsonObject("details", new JsonObject());
    List<Cause> causes = new ArrayList<>();
    JsonArray arr = details.getJsonArray("causes", new JsonArray());
    for (int i = 0; i < arr.size(); i++) {
      JsonObject c = arr.getJsonObject(i);
      causes.add(new Cause(c.getString("field"), c.getString("reason"), c.getString("message")));
    }
    return new ApiError(reason, status.getString("message", ""), details.getString("group"),
        details.getString("kind"), details.getString("name"), causes,
        status.getJsonObject("metadata", new JsonObject()).getString("continue"), details.getInteger("retryAfterSeconds", 0));
  }
}
