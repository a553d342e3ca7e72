// Command pjrt-install pre-installs the XLA PJRT plugins (CPU and CUDA) at fixed
// versions, with go-xla's own installer library (github.com/gomlx/go-xla/installer,
// the library behind go-xla's cmd/pjrt_installer), so that the Docker image needs
// no download at run time. The Dockerfile runs it at build time:
//
//	go run . -path /usr/local/lib/go-xla -cpu v0.114.0 -cuda cuda13 -cuda-version 0.11.2
//
// go-xla searches /usr/local/lib/go-xla (and its nvidia/ subdirectory) for plugins.
// The CPU version defaults to the one go-xla v0.4.13 was tested with
// (DefaultCPUVersion). The CUDA plugin and the NVIDIA libraries come from the
// jax-<cuda>-pjrt / jax-<cuda>-plugin wheels of the given JAX version.
//
// It lives in its own module (not the project's) so the project's go.mod stays as is.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/gomlx/go-xla/installer"
)

func main() {
	path := flag.String("path", "/usr/local/lib/go-xla", "go-xla plugin directory")
	cpu := flag.String("cpu", "v0.114.0", "pjrt-cpu-binaries release of the CPU plugin (empty: skip)")
	cuda := flag.String("cuda", "cuda13", "CUDA plugin flavour: cuda12 or cuda13 (empty: skip)")
	cudaVersion := flag.String("cuda-version", "", "JAX version of the jax-<cuda>-pjrt wheel, e.g. 0.11.2 (required with -cuda)")
	flag.Parse()
	if err := run(*path, *cpu, *cuda, *cudaVersion); err != nil {
		fmt.Fprintf(os.Stderr, "pjrt-install: %v\n", err)
		os.Exit(1)
	}
}

func run(path, cpu, cuda, cudaVersion string) error {
	path, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	for _, v := range []string{cpu, cudaVersion} {
		if v == "latest" {
			return fmt.Errorf("refusing version %q: pin an exact version", v)
		}
	}
	if cpu != "" {
		platform := runtime.GOOS + "_" + runtime.GOARCH
		if err := installer.CPUInstall(platform, cpu, path, false, installer.Verbose); err != nil {
			return fmt.Errorf("installing the CPU PJRT plugin %s: %w", cpu, err)
		}
	}
	if cuda != "" {
		if cudaVersion == "" {
			return fmt.Errorf("-cuda %s needs -cuda-version", cuda)
		}
		if err := installer.CudaInstall(cuda, cudaVersion, path, false, installer.Verbose); err != nil {
			return fmt.Errorf("installing the %s PJRT plugin %s: %w", cuda, cudaVersion, err)
		}
		nvidia := filepath.Join(path, "nvidia")
		if err := relativeLink(nvidia, filepath.Join(nvidia, "bin", "ptxas")); err != nil {
			return err
		}
		if err := linkNVVM(nvidia); err != nil {
			return err
		}
	}
	return nil
}

// linkNVVM links nvidia/nvvm to the CUDA wheel's nvvm/ (cu13/nvvm, or
// cuda_nvcc/nvvm for CUDA 12), relative, where the installer made none: XLA
// looks for nvvm/libdevice in its CUDA data dir, which go-xla sets to nvidia/.
func linkNVVM(nvidia string) error {
	link := filepath.Join(nvidia, "nvvm")
	if _, err := os.Lstat(link); err == nil {
		return nil
	}
	for _, sub := range []string{"cu13", "cuda_nvcc"} {
		if st, err := os.Stat(filepath.Join(nvidia, sub, "nvvm", "libdevice")); err == nil && st.IsDir() {
			if err := os.Symlink(filepath.Join(sub, "nvvm"), link); err != nil {
				return fmt.Errorf("nvvm link: %w", err)
			}
			fmt.Printf("pjrt-install: %s -> %s\n", link, filepath.Join(sub, "nvvm"))
			return nil
		}
	}
	return nil
}

// relativeLink rewrites an absolute link inside root (the installer's
// nvidia/bin/ptxas -> <root>/cu13/bin/ptxas) as a link relative to its
// directory, so that it still resolves when root is copied elsewhere (the
// Dockerfile installs into /stage and copies to /usr/local/lib). Links that
// are relative or point outside root are left alone.
func relativeLink(root, link string) error {
	target, err := os.Readlink(link)
	if err != nil || !filepath.IsAbs(target) {
		return nil // no link, or already relative
	}
	if in, err := filepath.Rel(root, target); err != nil || !filepath.IsLocal(in) {
		return nil // outside root: moves with nothing
	}
	rel, err := filepath.Rel(filepath.Dir(link), target)
	if err != nil {
		return fmt.Errorf("link %s -> %s: %w", link, target, err)
	}
	if err := os.Remove(link); err != nil {
		return fmt.Errorf("link %s: %w", link, err)
	}
	if err := os.Symlink(rel, link); err != nil {
		return fmt.Errorf("link %s: %w", link, err)
	}
	fmt.Printf("pjrt-install: %s -> %s\n", link, rel)
	return nil
}
