package io.kvx.apiserver;

import io.kvx.api.ApiError;
import io.kvx.api.Meta;
import io.kvx.api.RemoteCommand;
import io.kvx.api.Resources;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * pods/exec, pods/attach and pods/portforward: checks the pod and container, upgrades the connection
 * (WebSocket with the channel.k8s.io protocols for exec and attach; SPDY inside a WebSocket for
 * port-forward) and relays it to the pod's node agent over the bus.
 */
final class StreamRoutes {

  private static final Logger LOG = Logger.getLogger(StreamRoutes.class.getName());
  /** Path: /api/v1/namespaces/NS/pods/NAME/(exec|attach|portforward) */
  static final String PATH_REGEX = "^/api/v1/namespaces/([^/]+)/pods/([^/]+)/(exec|attach|portforward)/?$";
  static final String SPDY_TUNNEL = "SPDY/3.1+portforward.k8s.io";
  static final List<String> SUBPROTOCOLS;

  static {
    List<String> all = new ArrayList<>(RemoteCommand.PROTOCOLS);
    all.add(SPDY_TUNNEL);
    SUBPROTOCOLS = List.copyOf(all);
  }

  private final Vertx vertx;
  private final ApiService api;

  StreamRoutes(Vertx vertx, ApiService api) {
    this.vertx = vertx;
    this.api = api;
  }

  void handle(RoutingContext ctx) {
    String ns = ctx.pathParam("param0");
    String name = ctx.pathParam("param1");
    String kind = ctx.pathParam("param2");
    HttpServerRequest req = ctx.request();
    req.pause();
    ApiRequest get = new ApiRequest("get", Resources.PODS, ns, name, null, null, null, Map.of());
    // CONNECT admission first, with the options asked for, as kube-apiserver's connect handler.
    api.admitConnect(ns, name, kind, connectOptions(kind, req.params()), ApiServerVerticle.user(ctx))
        .compose(v -> api.get(get)).compose(pod -> {
      JsonObject open = target(pod, kind, req.params());
      String node = pod.getJsonObject("spec").getString("nodeName");
      return switch (kind) {
        case "portforward" -> portForward(req, open, node);
        default -> remoteCommand(req, open, node, pod);
      };
    }).onFailure(e -> {
      req.resume();
      HttpApi.fail(ctx, e);
    });
  }

  /** The PodExecOptions, PodAttachOptions or PodPortForwardOptions a stream request names, as admission sees them. */
  static JsonObject connectOptions(String kind, MultiMap params) {
    String k = switch (kind) {
      case "exec" -> "PodExecOptions";
      case "attach" -> "PodAttachOptions";
      default -> "PodPortForwardOptions";
    };
    JsonObject o = new JsonObject().put("kind", k).put("apiVersion", "v1");
    if (kind.equals("portforward")) {
      io.vertx.core.json.JsonArray ports = new io.vertx.core.json.JsonArray();
      for (String p : params.getAll("ports")) {
        for (String one : p.split(",")) {
          try {
            ports.add(Integer.parseInt(one.trim()));
          } catch (NumberFormatException e) {
            // the node's port-forward refuses it
          }
        }
      }
      return ports.isEmpty() ? o : o.put("ports", ports);
    }
    for (String b : List.of("stdin", "stdout", "stderr", "tty")) {
      if (params.contains(b)) o.put(b, !"false".equals(params.get(b)) && !"0".equals(params.get(b)));
    }
    if (params.get("container") != null) o.put("container", params.get("container"));
    if (kind.equals("exec")) o.put("command", new io.vertx.core.json.JsonArray(new ArrayList<>(params.getAll("command"))));
    return o;
  }

  /** What the node is asked to open; fails with kube-apiserver's 400s for a pod that cannot take it. */
  private static JsonObject target(JsonObject pod, String kind, MultiMap params) {
    String name = Meta.name(pod);
    JsonObject spec = pod.getJsonObject("spec");
    String phase = pod.getJsonObject("status", new JsonObject()).getString("phase", "Pending");
    if (spec.getString("nodeName") == null) {
      throw ApiError.badRequest("pod " + name + " does not have a host assigned");
    }
    if (phase.equals("Succeeded") || phase.equals("Failed")) {
      throw ApiError.badRequest("cannot " + (kind.equals("portforward") ? "port-forward to" : kind + " into")
          + " a container in a completed pod; current phase is " + phase);
    }
    JsonObject open = new JsonObject().put("kind", kind).put("namespace", Meta.namespace(pod)).put("name", name)
        .put("uid", Meta.uid(pod));
    String container = params.get("container");
    JsonArray containers = spec.getJsonArray("containers", new JsonArray());
    if (container == null) {
      container = defaultContainer(pod, containers);
      if (container == null && !kind.equals("portforward")) {
        throw ApiError.badRequest("a container name must be specified for pod " + name + ", choose one of: "
            + names(containers));
      }
    } else if (!anyContainer(pod).contains(container)) {
      throw ApiError.badRequest("container " + container + " is not valid for pod " + name);
    }
    if (container == null) container = containers.getJsonObject(0).getString("name");
    open.put("container", container);
    if (kind.equals("portforward")) return open;
    List<String> command = params.getAll("command");
    if (kind.equals("exec") && command.isEmpty()) throw ApiError.badRequest("you must specify at least 1 command");
    boolean stdin = flag(params, "stdin");
    boolean stdout = flag(params, "stdout");
    boolean stderr = flag(params, "stderr");
    boolean tty = flag(params, "tty");
    if (!stdin && !stdout && !stderr) {
      throw ApiError.badRequest("you must specify at least 1 of stdin, stdout, stderr");
    }
    return open.put("command", new JsonArray(command)).put("stdin", stdin).put("stdout", stdout)
        .put("stderr", stderr && !tty).put("tty", tty);
  }

  /** One container: that one; several: the default-container annotation (as kubectl reads it), else none. */
  static String defaultContainer(JsonObject pod, JsonArray containers) {
    if (containers.size() == 1) return containers.getJsonObject(0).getString("name");
    String annotated = Meta.meta(pod).getJsonObject("annotations", new JsonObject())
        .getString("kubectl.kubernetes.io/default-container");
    return annotated != null && names(containers).contains(annotated) ? annotated : null;
  }

  /** Whether the pod's status says the container runs (or says nothing of it yet). */
  private static boolean running(JsonObject pod, String container) {
    JsonObject status = pod.getJsonObject("status", new JsonObject());
    for (String list : List.of("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses")) {
      for (Object o : status.getJsonArray(list, new JsonArray())) {
        if (o instanceof JsonObject cs && container.equals(cs.getString("name"))) {
          return cs.getJsonObject("state", new JsonObject()).containsKey("running");
        }
      }
    }
    return true;
  }

  /** Every container a stream or log may name: init, regular and ephemeral ones. */
  static List<String> anyContainer(JsonObject pod) {
    JsonObject spec = pod.getJsonObject("spec", new JsonObject());
    List<String> out = new ArrayList<>();
    for (String list : List.of("initContainers", "containers", "ephemeralContainers")) {
      out.addAll(names(spec.getJsonArray(list, new JsonArray())));
    }
    return out;
  }

  static List<String> names(JsonArray containers) {
    List<String> names = new ArrayList<>();
    containers.forEach(c -> names.add(((JsonObject) c).getString("name")));
    return names;
  }

  private static boolean flag(MultiMap params, String name) {
    String v = params.get(name);
    return v != null && (v.equals("true") || v.equals("1"));
  }

  /** How much client input may wait for the node before the socket stops reading. */
  private static final long IN_FLIGHT_BYTES = 4L << 20;

  /** exec and attach over a WebSocket, channel frames passed through both ways. */
  private Future<Void> remoteCommand(HttpServerRequest req, JsonObject open, String node, JsonObject pod) {
    if (!req.canUpgradeToWebSocket() && !running(pod, open.getString("container"))) {
      // kubectl retries over SPDY whenever the WebSocket upgrade is refused: tell it why the first one was.
      return Future.failedFuture(ApiError.badRequest("container " + open.getString("container") + " is not valid "
          + "for pod " + Meta.name(pod) + ": the container is not running"));
    }
    if (!req.canUpgradeToWebSocket()) {
      ApiError spdy = ApiError.badRequest("kvx serves " + open.getString("kind") + " over WebSocket "
          + "(subprotocol " + RemoteCommand.V5 + "), not SPDY: use kubectl 1.30 or newer");
      if (!open.getString("kind").equals("attach")) return Future.failedFuture(spdy);
      // The pod's status may not show yet that the container ended (kubectl debug of a short command): ask
      // the node, whose refusal is the reason the WebSocket attach failed. Attaching runs nothing.
      return NodeStream.open(vertx, node, open, frame -> Future.succeededFuture())
          .compose(stream -> {
            stream.close();
            return Future.<Void>failedFuture(spdy);
          });
    }
    Promise<ServerWebSocket> socket = Promise.promise();
    Function<Buffer, Future<Void>> toClient = frame -> socket.future().compose(ws -> {
      if (RemoteCommand.channel(frame) == (RemoteCommand.END & 0xff)) {
        return ws.isClosed() ? Future.succeededFuture() : ws.close((short) 1000);
      }
      return ws.isClosed() ? Future.succeededFuture() : ws.writeBinaryMessage(frame);
    });
    return NodeStream.open(vertx, node, open, toClient).compose(stream -> {
      req.resume();
      return req.toWebSocket().onFailure(e -> stream.close()).onSuccess(ws -> {
        // Frames queue in order; reading pauses only while more than IN_FLIGHT_BYTES wait for the node, so
        // a client that sends its last bytes and closes at once (an upload) has them all taken before the
        // close, which a paused socket could otherwise drop.
        long[] inFlight = {0};
        boolean[] paused = {false};
        ws.binaryMessageHandler(frame -> {
          inFlight[0] += frame.length();
          if (inFlight[0] > IN_FLIGHT_BYTES && !paused[0]) {
            paused[0] = true;
            ws.pause();
          }
          stream.send(frame).onComplete(ar -> {
            if (ar.failed()) stream.close();
            inFlight[0] -= frame.length();
            if (paused[0] && inFlight[0] <= IN_FLIGHT_BYTES / 2) {
              paused[0] = false;
              ws.resume();
            }
          });
        });
        ws.closeHandler(v -> stream.close());
        ws.exceptionHandler(e -> LOG.fine(open.getString("kind") + " stream: " + e.getMessage()));
        if (open.getString("kind").equals("exec")) deferClientClose(req, ws, stream);
        socket.complete(ws);
      }).<Void>mapEmpty();
    });
  }

  /** How long a command may run on after its client sent a WebSocket close, before the socket is closed. */
  private static final long CLOSE_GRACE_MS = 10_000;

  /**
   * As kube-apiserver: a client's WebSocket close ends its input, not the command; the output still
   * coming and the exit status are sent, then the server closes. Vert.x would answer the close frame at
   * once and drop the connection (a fabric8 upload's final `wc -c` lost), so a handler ahead of Vert.x's
   * takes the client's close frame, closes the command's stdin and lets the node's END frame close the
   * socket (within {@link #CLOSE_GRACE_MS}).
   */
  private void deferClientClose(HttpServerRequest req, ServerWebSocket ws, NodeStream stream) {
    io.vertx.core.Context context = vertx.getOrCreateContext();
    io.netty.channel.ChannelPipeline pipeline;
    try {
      pipeline = ((io.vertx.core.net.impl.ConnectionBase) req.connection()).channel().pipeline();
    } catch (RuntimeException e) {
      LOG.fine("no deferred close: " + e);
      return;
    }
    if (pipeline.get("handler") == null) return;
    pipeline.addBefore("handler", "kvx-deferred-close", new io.netty.channel.ChannelInboundHandlerAdapter() {
      private boolean seen;

      @Override
      public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof io.netty.handler.codec.http.websocketx.CloseWebSocketFrame close)) {
          ctx.fireChannelRead(msg);
          return;
        }
        close.release();
        if (seen) return;
        seen = true;
        context.runOnContext(v -> {
          stream.send(RemoteCommand.close(RemoteCommand.STDIN));
          vertx.setTimer(CLOSE_GRACE_MS, t -> {
            if (!ws.isClosed()) ws.close((short) 1000);
          });
        });
      }
    });
  }

  /** The subprotocol the upgrade will settle on: the client's first offer that the server serves. */
  private static String chosenProtocol(HttpServerRequest req) {
    String offered = req.getHeader("Sec-WebSocket-Protocol");
    if (offered == null) return null;
    for (String p : offered.split(",")) {
      if (SUBPROTOCOLS.contains(p.trim())) return p.trim();
    }
    return null;
  }

  /**
   * port-forward: SPDY inside a WebSocket, what kubectl tries first. One node session per forwarded
   * connection.
   */
  private Future<Void> portForward(HttpServerRequest req, JsonObject open, String node) {
    var opener = (java.util.function.BiFunction<Integer, Function<Buffer, Future<Void>>, Future<NodeStream>>)
        (port, onFrame) -> NodeStream.open(vertx, node, open.copy().put("port", port), onFrame);
    req.resume();
    if (req.canUpgradeToWebSocket() && !SPDY_TUNNEL.equals(chosenProtocol(req))) {
      // the client libraries' plain WebSocket protocol (channel.k8s.io framing, ports in the query)
      List<Integer> ports = WebSocketPortForward.ports(req.params().getAll("ports"));
      return req.toWebSocket().onSuccess(ws -> {
        WebSocketPortForward forward = new WebSocketPortForward(ports, ws::writeBinaryMessage, () -> {
          if (!ws.isClosed()) ws.close();
        }, opener);
        ws.binaryMessageHandler(forward::receive);
        ws.closeHandler(v -> forward.close());
      }).<Void>mapEmpty();
    }
    if (req.canUpgradeToWebSocket()) {
      return req.toWebSocket().onSuccess(ws -> {
        SpdyPortForward spdy = new SpdyPortForward(ws::writeBinaryMessage, opener, ws::pause, ws::resume);
        ws.binaryMessageHandler(spdy::receive);
        ws.closeHandler(v -> spdy.close());
      }).<Void>mapEmpty();
    }
    // kubectl's fallback, a POST upgraded to SPDY/3.1, cannot be taken: Vert.x hands over the raw
    // connection only for CONNECT or an upgrading GET.
    return Future.failedFuture(ApiError.badRequest("kvx serves port-forward over WebSocket only (subprotocol "
        + SPDY_TUNNEL + "), not a SPDY/3.1 upgrade: use kubectl 1.31 or newer and leave "
        + "KUBECTL_PORT_FORWARD_WEBSOCKETS unset"));
  }
}
