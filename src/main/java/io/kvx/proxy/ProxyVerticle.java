package io.kvx.proxy;

import io.kvx.api.Meta;
import io.kvx.api.ResourceType;
import io.kvx.api.Resources;
import io.kvx.bus.Services;
import io.kvx.client.ApiClient;
import io.kvx.client.Informer;
import io.kvx.store.WatchEvent;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;

import java.util.logging.Logger;

/**
 * kube-proxy's job on one node: watches Services and EndpointSlices (discovery.k8s.io/v1, as
 * kube-proxy does; the endpoints controllers keep them, mirroring hand-written Endpoints) through the
 * informer cache and hands every change to a {@link Proxier}, which programs the chosen mode
 * (nftables by default; ipvs; userspace); serves kube-proxy's metrics endpoint. Needs root; without it the verticle says so once and does nothing. Stopping it
 * removes every rule, route and address it made.
 */
public final class ProxyVerticle extends VerticleBase {

  private static final Logger LOG = Logger.getLogger(ProxyVerticle.class.getName());

  private Proxier proxier;
  private Informer serviceWatch;
  private Informer endpointsWatch;
  private HostLock hostLock;
  private io.vertx.core.http.HttpServer metricsServer;

  @Override
  public Future<?> start() {
    ProxyOptions options = ProxyOptions.fromJson(config());
    if (!"root".equals(System.getProperty("user.name"))) {
      LOG.warning("proxy: not running as root; services are not proxied on this node");
      return Future.succeededFuture();
    }
    Services services = Services.of(vertx);
    ApiClient client = new ApiClient(vertx, services.store());
    ResourceType svcType = Resources.builtIn("", "services");
    ResourceType sliceType = Resources.builtIn("discovery.k8s.io", "endpointslices");
    return vertx.executeBlocking(() -> {
      hostLock = HostLock.tryAcquire(options.table);
      return hostLock == null ? null : ProxyModes.create(vertx, options);
    }).compose(mode -> {
      if (mode == null) {
        LOG.warning("proxy: another kvx proxy on this host owns table ip " + options.table
            + "; this node leaves service proxying to it");
        return Future.succeededFuture(false);
      }
      proxier = new Proxier(vertx, options, mode, services.metrics());
      return proxier.start().map(true).recover(e -> {
        LOG.warning("proxy: " + mode.name() + " mode failed to start (" + e.getMessage()
            + "); services are not proxied on this node");
        proxier = null;
        return releaseLock().map(false);
      });
    }).compose(active -> !active ? Future.succeededFuture() :
        client.watch(svcType, o -> true, ev -> proxier.onService(key(ev), object(ev))).compose(w -> {
          serviceWatch = w;
          return client.watch(sliceType, o -> true, ev -> proxier.onEndpointSlice(key(ev), object(ev)));
        }).onSuccess(w -> endpointsWatch = w).compose(w -> serveMetrics(options, services)));
  }

  /**
   * kube-proxy's metrics endpoint: this JVM's registry (the proxy's sync and programming histograms
   * among the rest) at /metrics, and /healthz. A port already taken is said once and skipped.
   */
  private Future<Void> serveMetrics(ProxyOptions options, Services services) {
    String address = options.metricsBindAddress;
    if (address == null || address.isBlank()) return Future.succeededFuture();
    int colon = address.lastIndexOf(':');
    String host = colon > 0 ? address.substring(0, colon) : "127.0.0.1";
    int port = Integer.parseInt(address.substring(colon + 1));
    metricsServer = vertx.createHttpServer().requestHandler(req -> {
      switch (req.path()) {
        case "/metrics" -> req.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            .end(services.metrics().scrape());
        case "/healthz", "/livez" -> req.response().end("ok");
        default -> req.response().setStatusCode(404).end();
      }
    });
    return metricsServer.listen(port, host).<Void>map(s -> {
      LOG.info("proxy: metrics on http://" + host + ":" + s.actualPort() + "/metrics");
      return null;
    }).recover(e -> {
      LOG.warning("proxy: cannot serve metrics on " + address + " (" + e.getMessage() + ")");
      metricsServer = null;
      return Future.succeededFuture();
    });
  }

  private Future<Void> releaseLock() {
    HostLock lock = hostLock;
    hostLock = null;
    return lock == null ? Future.succeededFuture() : vertx.executeBlocking(() -> {
      lock.close();
      return null;
    });
  }

  private static String key(WatchEvent ev) {
    return Meta.namespace(ev.object()) + "/" + Meta.name(ev.object());
  }

  private static JsonObject object(WatchEvent ev) {
    return ev.type().equals(WatchEvent.DELETED) ? null : ev.object();
  }

  @Override
  public Future<?> stop() {
    if (serviceWatch != null) serviceWatch.stop();
    if (endpointsWatch != null) endpointsWatch.stop();
    if (metricsServer != null) metricsServer.close();
    Future<Void> stopped = proxier == null ? Future.succeededFuture() : proxier.stop();
    return stopped.eventually(this::releaseLock);
  }
}
