from django.urls import path

from linge.cockpit import views

app_name = "cockpit"
urlpatterns = [
    path("", views.home, name="home"),
    path("disposal/", views.disposal, name="disposal"),
    path("analysis/", views.analysis, name="analysis"),
    path("board/", views.board, name="board"),
    path("board/public/", views.public_board, name="public_board"),
    path("record/", views.record, name="record"),
    path("cases/", views.cases, name="cases"),
    path("export.xlsx", views.export, name="export"),
]
