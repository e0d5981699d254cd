"""lstmlab.reports: what a trace looks like, for a reader.

``inspect_model`` (the ``lstmlab inspect`` report for a user's own LSTM or GRU), ``write_report``
(a self-contained HTML page of ``Section``s and ``ReportFigure``s), ``write_explorer`` (the gate
explorer: one HTML file, no server) and ``write_slstm_report`` (what an sLSTM keeps).
"""

from lstmlab.reports._explorer import ExplorerExample, write_explorer
from lstmlab.reports._explorer_model import ExplorerModel
from lstmlab.reports._html import Report, ReportFigure, Section, write_report
from lstmlab.reports._inspection import inspect_model
from lstmlab.reports._slstm_report import write_slstm_report
from lstmlab.reports._vocabulary import InspectError

__all__ = ["ExplorerExample", "ExplorerModel", "InspectError", "Report", "ReportFigure",
           "Section", "inspect_model", "write_explorer", "write_report", "write_slstm_report"]
