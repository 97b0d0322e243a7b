package io.kvx.apiserver;

import io.kvx.bus.Addresses;
import io.kvx.rbac.RequestAttributes;
import io.kvx.rbac.UserInfo;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.ext.bridge.BridgeEventType;
import io.vertx.ext.bridge.BridgeOptions;
import io.vertx.ext.bridge.PermittedOptions;
import io.vertx.ext.eventbus.bridge.tcp.BridgeEvent;
import io.vertx.ext.eventbus.bridge.tcp.TcpEventBusBridge;

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

  private final Vertx vertx;
  private final Function<String, Future<UserInfo>> authenticate;
  private final Authorizer authorizer;
  private final Consumer<Set<String>> onClientGone;
  private final Map<NetSocket, Set<String>> registered = new java.util.concurrent.ConcurrentHashMap<>();
  /** Which connection registered a watch address: only it may have a watch delivered there or end it. */
  private final Map<String, NetSocket> owners = new java.util.concurrent.ConcurrentHashMap<>();
  private TcpEventBusBridge bridge;

  public EventBusBridge(Vertx vertx, Function<String, Future<UserInfo>> authenticate, Authorizer authorizer,
                        Consumer<Set<String>> onClientGone) {
    this.vertx = vertx;
    this.authenticate = authenticate;
    this.authorizer = authorizer;
    this.onClientGone = onClientGone;
  }

  public Future<Void> listen(String host, int port) {
    BridgeOptions options = new BridgeOptions()
        .addInboundPermitted(new PermittedOptions().setAddress(Addresses.API))
        .addOutboundPermitted(new PermittedOptions().setAddressRegex(Addresses.WATCH_PREFIX.replace(".", "\\.") + ".+"));
    bridge = TcpEventBusBridge.create(vertx, options, new NetServerOptions(), this::onEvent);
    return bridge.listen(port, host).onSuccess(b -> LOG.info("apiserver: event-bus bridge on tcp://" + host + ":"
        + port)).onFailure(e -> LOG.warning("apiserver: event-bus bridge not started on port " + port + ": "
        + e.getMessage())).<Void>mapEmpty().recover(e -> Future.succeededFuture());
  }

  public Future<Void> close() {
    return bridge == null ? Future.succeededFuture() : bridge.close();
  }

  private void onEvent(BridgeEvent event) {
    BridgeEventType type = event.type();
    NetSocket socket = event.socket();
    switch (type) {
      case SEND, PUBLISH, REGISTER -> {
        JsonObject raw = event.getRawMessage();
        String auth = raw == null ? null : raw.getJsonObject("headers", new JsonObject()).getString("authorization");
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
          if (type != BridgeEventType.REGISTER) {
            // A request on the API address: the same RBAC decision as over HTTPS; a denial is kube's 403 Status.
            JsonObject m = raw.getJsonObject("body", new JsonObject());
            String address = m.getString("address");
            if (("watch".equals(m.getString("verb")) || "unwatch".equals(m.getString("verb")))
                && (address == null || owners.get(address) != socket)) {
              raw.getJsonObject("headers").put(FORBIDDEN_HEADER, new io.kvx.api.ApiError(
                  io.kvx.api.ApiError.Reason.Forbidden, "forbidden: a watch is delivered to an address this "
                  + "connection registered first").toStatus().encode());
              event.setRawMessage(raw);
              event.complete(true);
              return;
            }
            if (!"unwatch".equals(m.getString("verb"))) {
              RequestAttributes req = RequestAttributes.resource(ar.result(), busVerb(m), m.getString("group", ""),
                  m.getString("resource"), m.getString("subresource"), m.getString("namespace"), m.getString("name"));
              var denied = ApiServerVerticle.check(authorizer, req);
              // Passed on marked, so the API answers it with the 403 as any failed call (bridge clients' own
              // marks are dropped first).
              raw.getJsonObject("headers").remove(FORBIDDEN_HEADER);
              if (denied != null) raw.getJsonObject("headers").put(FORBIDDEN_HEADER, denied.toStatus().encode());
              event.setRawMessage(raw);
            }
          }
          if (type == BridgeEventType.REGISTER && raw.getString("address") != null) {
            registered.computeIfAbsent(socket, s -> java.util.concurrent.ConcurrentHashMap.newKeySet())
                .add(raw.getString("address"));
          }
          event.complete(true);
        });
      }
      case SOCKET_CLOSED -> {
        Set<String> addresses = registered.remove(socket);
        if (addresses != null) {
          addresses.forEach(a -> owners.remove(a, socket));
          onClientGone.accept(addresses);
        }
        event.complete(true);
      }
      default -> event.complete(true);
    }
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
