package io.kvx.proxy;

/** One backend address of a service port, with the port the Endpoints object resolved for it. */
public record Endpoint(String ip, int port, boolean ready) implements Comparable<Endpoint> {

  @Override
  public int compareTo(Endpoint o) {
    int c = ip.compareTo(o.ip);
    return c != 0 ? c : Integer.compare(port, o.port);
  }

  @Override
  public String toString() {
    return ip + ":" + port;
  }
}
