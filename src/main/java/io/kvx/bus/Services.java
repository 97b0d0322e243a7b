package io.kvx.bus;

import com.hazelcast.core.HazelcastInstance;
import io.kvx.store.Store;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.shareddata.Shareable;

/**
 * What one kvx JVM shares between its verticles: the Hazelcast member, the store (with its watch
 * cache) and the meter registry. Set up once by the launcher before any verticle is deployed.
 */
public record Services(HazelcastInstance hazelcast, Store store, PrometheusMeterRegistry metrics)
    implements Shareable {

  private static final String MAP = "kvx.services";

  public static Services of(Vertx vertx) {
    Services s = vertx.sharedData().<String, Services>getLocalMap(MAP).get("services");
    if (s == null) throw new IllegalStateException("kvx services are not set up on this Vert.x instance");
    return s;
  }

  public static void register(Vertx vertx, Services services) {
    vertx.sharedData().<String, Services>getLocalMap(MAP).put("services", services);
  }
}
