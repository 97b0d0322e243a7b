package io.kvx.node;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ServiceLinksTest {

  @Test
  void variablesAsTheKubeletWritesThem() {
    JsonObject web = new JsonObject("""
        {"metadata": {"name": "my-web"}, "spec": {"clusterIP": "10.96.4.5", "ports": [
          {"name": "http", "port": 80, "protocol": "TCP"}, {"name": "dns-udp", "port": 53, "protocol": "UDP"}]}}""");
    JsonObject headless = new JsonObject("""
        {"metadata": {"name": "db"}, "spec": {"clusterIP": "None", "ports": [{"port": 5432}]}}""");
    assertEquals(List.of("MY_WEB_SERVICE_HOST=10.96.4.5", "MY_WEB_SERVICE_PORT=80", "MY_WEB_SERVICE_PORT_HTTP=80",
        "MY_WEB_SERVICE_PORT_DNS_UDP=53", "MY_WEB_PORT=tcp://10.96.4.5:80", "MY_WEB_PORT_80_TCP=tcp://10.96.4.5:80",
        "MY_WEB_PORT_80_TCP_PROTO=tcp", "MY_WEB_PORT_80_TCP_PORT=80", "MY_WEB_PORT_80_TCP_ADDR=10.96.4.5",
        "MY_WEB_PORT_53_UDP=udp://10.96.4.5:53", "MY_WEB_PORT_53_UDP_PROTO=udp", "MY_WEB_PORT_53_UDP_PORT=53",
        "MY_WEB_PORT_53_UDP_ADDR=10.96.4.5"), ServiceLinks.env(List.of(web, headless)));
  }

  @Test
  void theLastValueOfANameWins() {
    assertEquals(List.of("B=2", "A=3"), ServiceLinks.lastWins(List.of("A=1", "B=2", "A=3")));
  }
}
