"""Reports: the paper's figures, per-run plots, and the HTML/Markdown/JSON report of ``convcheck report``."""
from .figures import FIGURES, draw_figure, figure_data, make_figures
from .run_plots import figure_to_pdf_bytes, figure_to_png_bytes, plot_run, save_run_plot

__all__ = ["FIGURES", "figure_data", "draw_figure", "make_figures", "plot_run", "save_run_plot",
           "figure_to_png_bytes", "figure_to_pdf_bytes"]
