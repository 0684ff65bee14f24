from django.urls import path

from plans.views import (
    board_pack,
    excel,
    grid,
    provided,
    region,
    returns,
    revision,
    rounds,
    submission,
    system,
    tables,
    workflow,
)

P = "rounds/<slug:slug>/<str:ods_code>/"
urlpatterns = [
    path("rounds/", rounds.round_list, name="round_list"),
    path("rounds/<slug:slug>/", rounds.round_detail, name="round_detail"),
    path("rounds/<slug:slug>/provided/", provided.round_provided, name="round_provided"),
    path("rounds/<slug:slug>/revise/", revision.round_revise_view, name="round_revise"),
    path("rounds/<slug:slug>/revisions/<int:pk>/", revision.round_revision, name="round_revision"),
    path("rounds/<slug:slug>/systems/<slug:code>/", system.system_plan, name="system_plan"),
    path(
        "rounds/<slug:slug>/systems/<slug:code>/versions/<int:number>/",
        system.system_version,
        name="system_version",
    ),
    path(
        "rounds/<slug:slug>/systems/<slug:code>/balances/",
        system.system_balances,
        name="system_balances",
    ),
    path(
        "rounds/<slug:slug>/systems/<slug:code>/system-plan.<str:fmt>",
        system.system_plan_export,
        name="system_plan_export",
    ),
    path(
        "rounds/<slug:slug>/systems/<slug:code>/balances.<str:fmt>",
        system.system_balances_export,
        name="system_balances_export",
    ),
    path(
        "rounds/<slug:slug>/systems/<slug:code>/submit/", region.system_submit, name="system_submit"
    ),
    path(
        "rounds/<slug:slug>/systems/<slug:code>/approve/",
        region.system_approve,
        name="system_approve",
    ),
    path(
        "rounds/<slug:slug>/systems/<slug:code>/return/", region.system_return, name="system_return"
    ),
    path(
        "rounds/<slug:slug>/systems/<slug:code>/comments/",
        region.system_comment,
        name="system_comment",
    ),
    path("rounds/<slug:slug>/regions/<slug:code>/", region.region_systems, name="region_systems"),
    path(P, submission.submission_detail, name="plan_detail"),
    path(P + "start/", submission.submission_start, name="plan_start"),
    path(P + "sections/<slug:section_code>/", grid.section_grid, name="plan_section"),
    path(P + "sections/<slug:section_code>/cells/", grid.section_cells, name="plan_section_cells"),
    path(P + "sections/<slug:section_code>/cell/", grid.section_cell, name="plan_section_cell"),
    path(
        P + "sections/<slug:section_code>/history/",
        grid.section_history,
        name="plan_section_history",
    ),
    path(
        P + "sections/<slug:section_code>/spread/", grid.section_spread, name="plan_section_spread"
    ),
    path(P + "narratives/<slug:section_code>/", submission.narrative, name="plan_narrative"),
    path(P + "tables/<slug:section_code>/", tables.section_table, name="plan_table"),
    path(P + "compare/", submission.compare, name="plan_compare"),
    path(P + "board-pack/", board_pack.board_pack, name="plan_board_pack"),
    path(P + "comments/", submission.comment_add, name="plan_comment"),
    path(P + "download.xlsx", excel.download_xlsx, name="plan_download_xlsx"),
    path(P + "download.csv", excel.download_csv, name="plan_download_csv"),
    path(P + "upload/", excel.upload, name="plan_upload"),
    path(P + "upload/<uuid:upload_id>/", excel.upload_status, name="plan_upload_status"),
    path(P + "submit/", workflow.submit, name="plan_submit"),
    path(P + "accept/", workflow.accept, name="plan_accept"),
    path(P + "return/", workflow.return_plan, name="plan_return"),
    path(P + "recall/", workflow.recall, name="plan_recall"),
    path(P + "returns/", returns.return_list, name="return_list"),
    path(P + "returns/start/", returns.return_start, name="return_start"),
    path(P + "returns/<int:month>/", returns.return_detail, name="return_detail"),
    path(P + "returns/<int:month>/submit/", returns.return_submit, name="return_submit"),
    path(P + "returns/<int:month>/upload/", returns.return_upload, name="return_upload"),
    path(
        P + "returns/<int:month>/upload/<uuid:upload_id>/",
        returns.return_upload_status,
        name="return_upload_status",
    ),  # fmt: skip
    path(
        P + "returns/<int:month>/return.<str:fmt>",
        returns.return_download,
        name="return_download",
    ),
]
