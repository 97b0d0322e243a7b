package io.kvx.apiserver;

import io.kvx.bus.Addresses;
import io.kvx.rbac.RequestAttributes;
import io.kvx.rbac.UserInfo;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.ext.bridge.BridgeEventType;
import io.vertx.ext.bridge.BridgeOptions;
import io.vertx.ext.bridge.PermittedOptions;
import io.vertx.ext.eventbus.bridge.tcp.BridgeEvent;
import io.vertx.ext.eventbus.bridge.tcp.impl.TcpEventBusBridgeImpl;

import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * The API for clients in other languages: Vert.x's TCP event-bus bridge (4-byte length + JSON
 * frames). Only the API address may be sent to and only watch addresses received from, and every
 * send or register must carry {@code headers.authorization: "Bearer <token>"}, the same token the
 * HTTPS API takes. The protocol is in docs/eventbus.md.
 */
public final class EventBusBridge {

  private static final Logger LOG = Logger.getLogger(EventBusBridge.class.getName());

  /** Set on a bridge request RBAC denied: the Status the API replies with. */
  static final String FORBIDDEN_HEADER = "kvx-forbidden";
  /** Set on every request that came through a bridge: its watch events go to this JVM's consumers only. */
  static final String BRIDGE_HEADER = "kvx-bridge";
  /** Headers a client may not set: kvx's own marks, and the bridge's delivery options other than a timeout. */
  /** Who sent a bridged request, as an AdmissionReview's userInfo (JSON): admission webhooks are told. */
  static final String USER_HEADER = "kvx-user";
  private static final Set<String> RESERVED_HEADERS = Set.of(FORBIDDEN_HEADER, BRIDGE_HEADER, USER_HEADER, "localOnly",
      "codecName");
  /** The largest frame taken (kube-apiserver takes request bodies of up to 3 MiB): a longer one closes the connection. */
  static final int MAX_FRAME = 4 * 1024 * 1024;
  private static final Set<String> FRAME_TYPES = Set.of("send", "register", "unregister", "ping");

  /**
   * Which connection registered a watch address, for the whole JVM (every API server instance's bridge): only it may
   * have a watch delivered there or end it. Bridge requests are served by this JVM's API servers and their watch events
   * delivered to this JVM's consumers only, so a connection to another JVM cannot take them either.
   */
  private static final Map<Vertx, Map<String, NetSocket>> OWNERS = new java.util.concurrent.ConcurrentHashMap<>();

  /** Held, so that its filter stays (JUL keeps loggers weakly): the bridge's own log, without client resets. */
  private static final Logger BRIDGE_LOG = Logger.getLogger(TcpEventBusBridgeImpl.class.getName());

  static {
    // The bridge logs every connection a client drops (a reset) with its stack trace: normal operation, not news.
    BRIDGE_LOG.setFilter(r -> !(r.getThrown() instanceof java.io.IOException));
  }

  private final Vertx vertx;
  private final Function<String, Future<UserInfo>> authenticate;
  private final Authorizer authorizer;
  private final Consumer<Set<String>> onClientGone;
  private final Map<NetSocket, Set<String>> registered = new java.util.concurrent.ConcurrentHashMap<>();
  private final Map<String, NetSocket> owners;
  private NetServer server;

  public EventBusBridge(Vertx vertx, Function<String, Future<UserInfo>> authenticate, Authorizer authorizer,
                        Consumer<Set<String>> onClientGone) {
    this.vertx = vertx;
    this.authenticate = authenticate;
    this.authorizer = authorizer;
    this.onClientGone = onClientGone;
    this.owners = OWNERS.computeIfAbsent(vertx, v -> new java.util.concurrent.ConcurrentHashMap<>());
  }

  /**
   * Vert.x's TCP bridge behind kvx's own server: each connection's frames are checked first (size, JSON, type, header
   * and body types; anything else is answered with an {@code err} frame, an oversized frame also closes the connection),
   * and a connection that closes ends its watches.
   */
  public Future<Void> listen(String host, int port) {
    BridgeOptions options = new BridgeOptions()
        .addInboundPermitted(new PermittedOptions().setAddress(Addresses.API))
        .addOutboundPermitted(new PermittedOptions().setAddressRegex(Addresses.WATCH_PREFIX.replace(".", "\\.") + ".+"));
    TcpEventBusBridgeImpl bridge = new TcpEventBusBridgeImpl(vertx, options, new NetServerOptions(), this::onEvent);
    java.lang.reflect.Method connect;
    try {
      connect = TcpEventBusBridgeImpl.class.getDeclaredMethod("handler", NetSocket.class);
      connect.setAccessible(true);
    } catch (ReflectiveOperationException | RuntimeException e) {
      return Future.failedFuture(new IllegalStateException("this vertx-tcp-eventbus-bridge has no connection handler "
          + "to put kvx's frame checks in front of: " + e));
    }
    server = vertx.createNetServer(new NetServerOptions()).connectHandler(socket -> {
      NetSocket checked = BridgeFrames.checked(socket, MAX_FRAME, EventBusBridge::frameError);
      socket.closeHandler(v -> clientGone(checked));
      try {
        connect.invoke(bridge, checked);
      } catch (ReflectiveOperationException e) {
        LOG.warning("apiserver: event-bus bridge connection refused: " + e);
        socket.close();
      }
    });
    return server.listen(port, host).onSuccess(b -> LOG.info("apiserver: event-bus bridge on tcp://" + host + ":"
        + port)).onFailure(e -> LOG.warning("apiserver: event-bus bridge not started on port " + port + ": "
        + e.getMessage())).<Void>mapEmpty().recover(e -> Future.succeededFuture());
  }

  public Future<Void> close() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  /** Why a frame is refused before the bridge sees it, or null when it may go on. */
  static String frameError(JsonObject frame) {
    if (!(frame.getValue("type") instanceof String type) || !FRAME_TYPES.contains(type)) {
      return "unknown_type: a frame's \"type\" is one of " + FRAME_TYPES.stream().sorted().toList();
    }
    if (type.equals("ping")) return null;
    if (!(frame.getValue("address") instanceof String)) return "address_required: a " + type + " frame needs an address";
    Object headers = frame.getValue("headers");
    if (headers != null && !(headers instanceof JsonObject)) return "invalid_headers: \"headers\" must be an object";
    if (headers instanceof JsonObject h) {
      for (var e : h) {
        if (!(e.getValue() instanceof String) && !(e.getKey().equals("timeout") && e.getValue() instanceof Number)) {
          return "invalid_headers: header \"" + e.getKey() + "\" must be a string";
        }
      }
    }
    if (type.equals("send")) {
      if (!(frame.getValue("replyAddress") instanceof String)) {
        return "reply_address_required: a send frame needs a \"replyAddress\" for the API's reply";
      }
      if (!(frame.getValue("body") instanceof JsonObject)) return "invalid_body: a send frame's \"body\" must be an object";
    }
    return null;
  }

  private void clientGone(NetSocket socket) {
    Set<String> addresses = registered.remove(socket);
    if (addresses != null) {
      addresses.forEach(a -> owners.remove(a, socket));
      onClientGone.accept(addresses);
    }
  }

  private void onEvent(BridgeEvent event) {
    BridgeEventType type = event.type();
    NetSocket socket = event.socket();
    switch (type) {
      case SEND, REGISTER -> {
        JsonObject raw = event.getRawMessage();
        JsonObject headers = raw.getJsonObject("headers", new JsonObject());
        raw.put("headers", headers);
        RESERVED_HEADERS.forEach(headers::remove);
        String auth = headers.getString("authorization");
        String token = auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7) ? auth.substring(7).trim() : null;
        // A watch address belongs to the connection that registers it first, taken on arrival (the watch request
        // right behind it may be authenticated first).
        String registering = type == BridgeEventType.REGISTER ? raw.getString("address") : null;
        if (registering != null && owners.putIfAbsent(registering, socket) != null
            && owners.get(registering) != socket) {
          event.complete(false); // another client's watch address
          return;
        }
        authenticate.apply(token).onComplete(ar -> {
          if (ar.failed()) {
            if (registering != null) owners.remove(registering, socket);
            event.complete(false);
            return;
          }
          if (type == BridgeEventType.SEND) {
            // Served by this JVM: its watches, and their ends, stay with this connection.
            headers.put("localOnly", true).put(BRIDGE_HEADER, "true")
                .put(USER_HEADER, Reviews.userInfo(ar.result()).encode());
            String denied = decide(ar.result(), raw.getJsonObject("body"), socket);
            if (denied != null) headers.put(FORBIDDEN_HEADER, denied);
          } else {
            registered.computeIfAbsent(socket, s -> java.util.concurrent.ConcurrentHashMap.newKeySet()).add(registering);
          }
          event.complete(true);
        });
      }
      // Publishing to the API would run the request on every API server of the cluster.
      case PUBLISH -> event.complete(false);
      default -> event.complete(true);
    }
  }

  /**
   * The same decisions as over HTTPS for a request on the API address: RBAC, then RBAC's escalation check on writes of
   * roles and bindings; a watch or unwatch only on an address this connection registered. Null when allowed, else
   * the Status to answer with.
   */
  private String decide(UserInfo user, JsonObject m, NetSocket socket) {
    String verb = m.getString("verb", "");
    String address = m.getString("address");
    if ((verb.equals("watch") || verb.equals("unwatch")) && (address == null || owners.get(address) != socket)) {
      return new io.kvx.api.ApiError(io.kvx.api.ApiError.Reason.Forbidden, "forbidden: a watch is delivered to an "
          + "address this connection registered first").toStatus().encode();
    }
    if (verb.equals("unwatch")) return null;
    String group = m.getString("group", "");
    RequestAttributes req = RequestAttributes.resource(user, busVerb(m), group, m.getString("resource"),
        m.getString("subresource"), m.getString("namespace"), m.getString("name"));
    io.kvx.api.ApiError denied = ApiServerVerticle.check(authorizer, req);
    boolean write = verb.equals("create") || verb.equals("update") || verb.equals("patch");
    if (denied == null && write && (m.getString("subresource") == null || m.getString("subresource").isEmpty())) {
      boolean jsonPatch = String.valueOf(m.getString("patchType")).contains("json-patch");
      denied = ApiServerVerticle.escalation(authorizer, user, verb.equals("patch"), group, m.getString("resource", ""),
          m.getString("namespace"), m.getString("name"), jsonPatch || !(m.getValue("body") instanceof JsonObject b)
              ? null : b);
    }
    return denied == null ? null : denied.toStatus().encode();
  }

  /** A bus request's verb as RBAC sees it: list/delete without a name are list/deletecollection. */
  private static String busVerb(JsonObject m) {
    String verb = m.getString("verb", "");
    boolean named = m.getString("name") != null && !m.getString("name").isEmpty();
    return switch (verb) {
      case "get" -> named ? "get" : "list";
      case "delete" -> named ? "delete" : "deletecollection";
      default -> verb;
    };
  }

}
