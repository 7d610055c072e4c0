"""Sampled points and outward normals of four domains: an L-shape, an annulus, the plate with
three holes and a polygon joined with a disk (docs/geometry.md)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from _figures import run, save  # noqa: E402

import pinn  # noqa: E402
from problems import annulus, lshape, plate_with_holes  # noqa: E402

SHAPES = {
    "L-shape: square - square": lshape.domain(),
    "annulus: disk - disk": pinn.Disk((0, 0), annulus.OUTER) - pinn.Disk((0, 0), annulus.INNER),
    "plate - three disks": plate_with_holes.domain(),
    "polygon | disk": pinn.Polygon([(0, 0), (2, 0), (2, 2), (1, 0.7), (0, 2)])
    | pinn.Disk((1, 0.2), 0.45),
}


def main(out):
    fig, axes = plt.subplots(2, 2, figsize=(10, 8))
    for ax, (title, d) in zip(axes.flat, SHAPES.items()):
        x = d.sample(1500, "halton", 0)
        b, n = d.boundary().sample(240, "halton", 0)
        ax.scatter(x[:, 0], x[:, 1], s=2, c="0.6", label="interior")
        ax.scatter(b[:, 0], b[:, 1], s=6, c="C3", label="boundary")
        ax.quiver(b[:, 0], b[:, 1], n[:, 0], n[:, 1], color="C0", scale=25, width=0.003)
        ax.set_title(title)
        ax.set_aspect("equal")
    axes.flat[0].legend(loc="lower left", fontsize=8)
    save(fig, out, "shapes.png")


if __name__ == "__main__":
    run(main, __doc__)
