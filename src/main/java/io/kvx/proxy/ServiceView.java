package io.kvx.proxy;

import java.util.List;

/** A service port with the endpoints it forwards to: what a mode renders. Ready endpoints only, sorted. */
public record ServiceView(ServicePort port, List<Endpoint> endpoints) {
}
