/**
 * The OpenCL backend (JOCL): {@link org.metagrad.kernels.opencl.OpenClBackendFactory} opens devices,
 * {@link org.metagrad.kernels.opencl.OpenClBackend} runs every SPI kernel from the shared sources in
 * {@code org/metagrad/kernels/common}, {@link org.metagrad.kernels.opencl.OpenClBuffer} holds device
 * memory. Runs in CI on PoCL (OpenCL on the CPU).
 */
package org.metagrad.kernels.opencl;
