/**
 * Not public API: classes the engine's own modules, tests and benchmarks share, which may change or disappear in
 * any release. Application code should not use them.
 *
 * <p>{@link org.metagrad.internal.Composites} holds the composite definitions of the fused ops (the functions whose
 * derivatives of every order the fused kernels reproduce, and the oracle the tests check them against).
 */
package org.metagrad.internal;
